// Thread replies about steering: a pause, a resume, a window change, a MaxParallelism override, a deploy freeze
// beginning and ending, an overridden freeze, and a ramp moving to its next stage. Each is one short section.
import type { SteeringRecord } from '../../../workflows/steeringMessages';
import { utcMinute } from '../../../domain/freezes';
import { BLOCK_THREAD_EVENT } from './ids';
import { fallback, formatUtcTime, mrkdwnSection, name, nameList, plural, who, type SlackMessage } from './text';

/** What the step-started reply says about a ramp. */
export interface StepRampInfo {
  /** `1, 2, 50%` as configured. */
  windows: string;
  /** The stage sizes over this step's targets (`[1, 2, 4, 1]`). */
  stages: number[];
  bakeSec?: number;
  manual?: boolean;
}

/** A ramp's next stage starting, or a bake before it. */
export interface RampStageEvent {
  step: string;
  /** 1-based: the stage starting (or, for a bake, the stage it holds back). */
  stage: number;
  stages: number;
  /** The stage's size. */
  window: number;
  phase: 'started' | 'baking';
  /** For a bake: how long, and until when. */
  bakeSec?: number;
  until?: string;
}

const at = (iso: string) => formatUtcTime(iso) ?? iso;

/** `:double_vertical_bar: *Paused* by <@U1> at 14:03 UTC: db migration running. …` and the others. */
export function steeringLine(r: SteeringRecord): string {
  switch (r.kind) {
    case 'paused':
      return `:double_vertical_bar: *Paused* by ${who(r.by)} at ${at(r.at)}${r.reason ? `: ${name(r.reason, 500)}` : ''}. Targets in flight finish their chains; nothing new starts until it is resumed.`;
    case 'resumed':
      return `:arrow_forward: *Resumed* by ${who(r.by)} at ${at(r.at)}.`;
    case 'window':
      return `:straight_ruler: *Window set to ${r.window}* by ${who(r.by)} at ${at(r.at)}${r.previous !== undefined ? ` (was ${r.previous})` : ''}: the running rolling step and every later one.`;
    case 'maxParallelism':
      return `:warning: *MaxParallelism ${r.window} overrides the window* of *${name(r.step, 60)}* (configured: ${name(r.configured, 100)}): at most ${plural(r.window, 'target')} at a time.`;
    case 'frozen':
      return `:snowflake: *Deploy freeze ${name(r.freeze, 60)}* (${name(r.reason, 300)}): paused until ${utcMinute(r.until)}. Targets in flight finish their chains; nothing new starts. It resumes by itself when the freeze ends.`;
    case 'thawed':
      return `:sunny: *Deploy freeze ${name(r.freeze, 60)} ended* at ${at(r.at)}: resuming.`;
    case 'freezeOverridden':
      return `:unlock: *Deploy freeze overridden* (${r.freezes.map((f) => name(f, 60)).join(', ')}) by ${who(r.by)}: ${name(r.reason, 500)}`;
  }
}

export function steered(r: SteeringRecord): SlackMessage {
  const line = steeringLine(r);
  return {
    text: fallback(line.replace(/:[a-z_]+: /, '').replace(/\*/g, '')),
    blocks: [mrkdwnSection(line, BLOCK_THREAD_EVENT)],
  };
}

/** `:chart_with_upwards_trend: *deploy* stage 2 of 4: 2 targets at a time` / `… baking 5m before stage 3`. */
export function rampStage(e: RampStageEvent): SlackMessage {
  const step = `*${name(e.step, 60)}*`;
  const line =
    e.phase === 'baking'
      ? `:hourglass_flowing_sand: ${step}: stage ${e.stage - 1} of ${e.stages} done; baking ${e.bakeSec ?? 0} s${e.until ? ` (until ${at(e.until)})` : ''} before stage ${e.stage}.`
      : `:chart_with_upwards_trend: ${step} stage ${e.stage} of ${e.stages}: ${plural(e.window, 'target')}${e.window > 1 ? ' at a time' : ''}.`;
  return {
    text: fallback(line.replace(/:[a-z_]+: /, '').replace(/\*/g, '')),
    blocks: [mrkdwnSection(line, BLOCK_THREAD_EVENT)],
  };
}

/** `, ramped 1, 2, 50% (stages of 1, 2, 4, 1; 300 s bake and a manual Proceed between stages)`. */
export function rampText(r: StepRampInfo): string {
  const holds = [
    ...(r.bakeSec !== undefined ? [`${r.bakeSec} s bake`] : []),
    ...(r.manual ? ['a manual Proceed'] : []),
  ];
  const sizes = nameList(
    r.stages.map((n) => String(n)),
    r.stages.length,
    12,
  );
  return `, ramped ${name(r.windows, 100)} (stages of ${sizes}${holds.length > 0 ? `; ${holds.join(' and ')} between stages` : ''})`;
}
