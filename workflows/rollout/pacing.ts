// How fast one exec step starts its targets: a sliding window, or a ramp's stages; replaced by a window override
// (MaxParallelism, or a window change) in rolling steps. The step runner asks it how many may be in flight and
// whether the current stage is full; it holds no Temporal commands itself.
import { describeRamp, rampStages } from '../../domain/ramp';
import type { ExecStepPlan } from '../../domain/plan';
import { windowSize } from '../../domain/window';
import type { RolloutState } from './state';

export class Pacer {
  private readonly stages: number[] | undefined;
  /** 0-based index of the ramp stage being started. */
  stage = 0;
  /** Targets started in the current stage. */
  private startedInStage = 0;
  private readonly configured: number;

  constructor(
    private readonly state: RolloutState,
    private readonly si: number,
    readonly step: ExecStepPlan,
    private readonly targets: number,
  ) {
    this.configured = windowSize(step.window, targets);
    // A ramp only with steering (older rollouts never had one); its stages cover every target of the step.
    this.stages = state.steerable && step.ramp ? rampStages(step.ramp, targets) : undefined;
  }

  /** The override that applies to this step: rolling steps only, and only in rollouts that know steering. */
  private override(): number | undefined {
    if (!this.state.steerable || this.step.type !== 'rolling') return undefined;
    const o = this.state.steering.windowOverride;
    return o ? windowSize({ count: o.window }, this.targets) : undefined;
  }

  /** A window override replaced this step's window (or the rest of its ramp). */
  overridden(): boolean {
    return this.override() !== undefined;
  }

  get ramped(): boolean {
    return this.stages !== undefined;
  }

  get stageCount(): number {
    return this.stages?.length ?? 0;
  }

  /** How many targets may be in flight now. */
  window(): number {
    const o = this.override();
    if (o !== undefined) return o;
    if (this.step.ramp && this.stages) return this.stageSize();
    return this.configured;
  }

  /** The size of the current stage: its entry of the ramp, the last one repeating. */
  private stageSize(): number {
    const windows = this.step.ramp?.windows ?? [];
    return windowSize(windows[Math.min(this.stage, windows.length - 1)], this.targets);
  }

  /** The current ramp stage has started all its targets: the next one waits for it to finish. */
  stageFull(): boolean {
    if (!this.stages || this.overridden()) return false;
    return this.startedInStage >= this.stageSize();
  }

  /** The stage sizes over this step's targets, as announced when the step starts. */
  stageSizes(): number[] {
    return [...(this.stages ?? [])];
  }

  /** How many targets the next stage starts (at most: what is left of the step). */
  nextStageSize(): number {
    const windows = this.step.ramp?.windows ?? [];
    return windowSize(windows[Math.min(this.stage + 1, windows.length - 1)], this.targets);
  }

  nextStage(): void {
    this.stage++;
    this.startedInStage = 0;
  }

  started(): void {
    this.startedInStage++;
  }

  /** Where the ramp is, carried when the step continues as new in its middle (stepContinue.ts). */
  snapshot(): { stage: number; startedInStage: number } {
    return { stage: this.stage, startedInStage: this.startedInStage };
  }

  restore(p: { stage: number; startedInStage: number }): void {
    this.stage = p.stage;
    this.startedInStage = p.startedInStage;
  }

  /** What the config said, for status when an override replaced it: `2`, `25%`, `ramp 1, 2, 50%`. */
  configuredText(): string {
    if (this.step.ramp) return `ramp ${describeRamp(this.step.ramp)}`;
    const w = this.step.window;
    return w === undefined ? 'all targets' : 'count' in w ? String(w.count) : `${w.percent}%`;
  }

  /** Shows the window (and the ramp, the override) in the step's summary. */
  show(): void {
    const { state, si } = this;
    state.stepWindows[si] = this.window();
    state.configuredWindows[si] = this.overridden() ? this.configuredText() : undefined;
    if (this.stages && this.step.ramp) {
      const prev = state.stepRamps[si];
      state.stepRamps[si] = {
        windows: describeRamp(this.step.ramp),
        stage: this.stage + 1,
        stages: Math.max(this.stages.length, this.stage + 1),
        ...(prev?.waiting ? { waiting: prev.waiting } : {}),
      };
    }
  }
}
