// Pieces of a RolloutSummary shared by the root message, the status reply and the end-of-rollout reply.
import { DEFAULT_NAMESPACE, workflowUiUrl } from '../../../domain/links';
import type { Decision, RolloutStatus, RolloutSummary, StepSummary, TargetState } from '../../../workflows/messages';
import { doubleHalfText } from '../../../domain/doubleHalf';
import { utcMinute } from '../../../domain/freezes';
import { nthBlockId } from './ids';
import {
  elapsedMs,
  formatDuration,
  formatUtcTime,
  name,
  nameList,
  packLines,
  plural,
  progressBar,
  who,
  type SectionBlock,
} from './text';

export const STATUS_EMOJI: Readonly<Record<RolloutStatus, string>> = {
  running: ':arrows_counterclockwise:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  cancelled: ':no_entry_sign:',
  aborted: ':octagonal_sign:',
};

export const STATUS_LABEL: Readonly<Record<RolloutStatus, string>> = {
  running: 'Running',
  succeeded: 'Succeeded',
  failed: 'Failed',
  cancelled: 'Cancelled',
  aborted: 'Aborted',
};

/** `Running`; `Stopping` once a running rollout has a stop reason; `Paused` or `Frozen` while held. */
export function statusLabel(s: RolloutSummary): string {
  if (s.status !== 'running') return STATUS_LABEL[s.status];
  if (s.stopReason) return 'Stopping';
  if (s.paused) return 'Paused';
  if (s.frozen) return 'Frozen';
  return STATUS_LABEL[s.status];
}

/** `web-farm v2` (raw: plain_text header). */
export function title(s: RolloutSummary): string {
  return `${s.deployable} ${s.release}`;
}

/** `*web-farm* v2` for mrkdwn. */
export function titleMrkdwn(s: RolloutSummary): string {
  return `*${name(s.deployable, 100)}* ${name(s.release, 130)}`;
}

/** The order the per-step counts are listed in; zeros are left out. */
const COUNT_ORDER: readonly TargetState[] = ['succeeded', 'failed', 'running', 'waiting', 'excluded', 'skipped'];

export function stepTotal(step: StepSummary): number {
  return Object.values(step.counts).reduce((a, b) => a + b, 0);
}

function stepDone(step: StepSummary): number {
  const c = step.counts;
  return c.succeeded + c.failed + c.skipped + c.excluded;
}

export function countsText(step: StepSummary): string {
  return COUNT_ORDER.filter((k) => (step.counts[k] ?? 0) > 0)
    .map((k) => `${step.counts[k]} ${k}`)
    .join(' · ');
}

function stepEmoji(step: StepSummary): string {
  switch (step.state) {
    case 'pending':
      return ':white_circle:';
    case 'running':
      return step.counts.waiting > 0 || step.type === 'manual' ? ':raised_hand:' : ':arrow_forward:';
    case 'skipped':
      return ':fast_forward:';
    case 'done':
      return step.counts.failed > 0 ? ':x:' : ':white_check_mark:';
  }
}

/** One line per step: `:arrow_forward: *deploy* _rolling, window 5_ — 12 succeeded · 3 running`. */
export function stepLines(s: RolloutSummary): string[] {
  return s.steps.map((step) => {
    const configured = step.configuredWindow !== undefined ? ` (configured ${name(step.configuredWindow, 60)})` : '';
    const ramp =
      step.ramp && step.configuredWindow === undefined
        ? `, ramp ${name(step.ramp.windows, 60)}: stage ${step.ramp.stage} of ${step.ramp.stages}${rampWaiting(step)}`
        : '';
    const kind =
      step.type === 'rolling'
        ? `rolling${step.window !== undefined ? `, window ${step.window}${configured}` : ''}${ramp}`
        : step.type === 'double-half' && step.doubleHalf
          ? `double-half, ${name(doubleHalfText(step.doubleHalf, false), 200)}`
          : step.type;
    const counts = countsText(step);
    const tail = counts || (step.state === 'pending' ? 'pending' : step.state === 'skipped' ? 'skipped' : '');
    return `${stepEmoji(step)} *${name(step.name, 60)}* _${kind}_${tail ? ` — ${tail}` : ''}`;
  });
}

function rampWaiting(step: StepSummary): string {
  const w = step.ramp?.waiting;
  if (!w) return '';
  return w.kind === 'bake' ? `, baking until ${formatUtcTime(w.until) ?? w.until}` : ', waiting for Proceed';
}

export function stepSections(s: RolloutSummary, blockIdPrefix: string, maxSections = 2): SectionBlock[] {
  return packLines(stepLines(s), blockIdPrefix, maxSections, (n) => `_+${plural(n, 'more step')}_`, nthBlockId);
}

/** The step the progress bar follows: the current one, else a running one. */
function activeStep(s: RolloutSummary): StepSummary | undefined {
  return s.steps.find((st) => st.name === s.currentStep) ?? s.steps.find((st) => st.state === 'running');
}

/** `▰▰▰▱▱▱▱▱▱▱ 12/20 targets in *deploy*` while running a step with targets, else `▰▰▱▱▱ 2/5 steps`. */
export function progressLine(s: RolloutSummary): string {
  const step = s.status === 'running' ? activeStep(s) : undefined;
  if (step && stepTotal(step) > 0) {
    const total = stepTotal(step);
    const done = stepDone(step);
    return `${progressBar(done, total)} ${done}/${plural(total, 'target')} in *${name(step.name, 60)}*`;
  }
  const total = s.steps.length;
  const done = s.steps.filter((st) => st.state === 'done').length;
  const skipped = s.steps.filter((st) => st.state === 'skipped').length;
  return `${progressBar(done, total)} ${done}/${plural(total, 'step')} ran${skipped > 0 ? ` · ${skipped} skipped` : ''}`;
}

/**
 * A stop reason from the workflow (`cancelled by U123: …`, `verify: aborted by U123`), escaped, with the Slack
 * user id after `by` turned into a mention.
 */
export function reasonText(raw: string, max = 500): string {
  return name(raw, max).replace(/\bby ([UW][A-Z0-9]{1,30})\b(?!&gt;)/g, 'by <@$1>');
}

export function durationText(s: RolloutSummary, now: Date): string | undefined {
  const ms = elapsedMs(s.startedAt, s.endedAt, now);
  if (ms === undefined) return undefined;
  return s.endedAt !== undefined ? `took ${formatDuration(ms)}` : `${formatDuration(ms)} elapsed`;
}

/** Status, who started it, progress, pending decisions, stop reason and first failure, one per line. */
export function statusLines(s: RolloutSummary, now: Date): string[] {
  const lines: string[] = [];
  const stepIdx = s.currentStep !== undefined ? s.steps.findIndex((st) => st.name === s.currentStep) : -1;
  const where =
    s.status === 'running' && stepIdx >= 0
      ? ` · step ${stepIdx + 1} of ${s.steps.length}: *${name(s.currentStep ?? '', 60)}*`
      : '';
  lines.push(`${STATUS_EMOJI[s.status]} *${statusLabel(s)}*${where}`);
  const duration = durationText(s, now);
  lines.push(`Started by ${who(s.requestedBy)}${duration ? ` · ${duration}` : ''}`);
  lines.push(progressLine(s));
  const pending = s.pendingDecisions.length;
  if (pending > 0) lines.push(`:raised_hand: ${plural(pending, 'decision')} waiting in the thread`);
  if (s.stopReason) lines.push(`*${s.status === 'running' ? 'Stopping' : 'Stopped'}:* ${reasonText(s.stopReason)}`);
  if (s.status === 'running') lines.push(...heldLines(s));
  if (s.windowOverride) {
    lines.push(
      `:straight_ruler: Window ${s.windowOverride.window} for rolling steps (set by ${who(s.windowOverride.by)})`,
    );
  }
  if (s.freezeOverride) {
    const o = s.freezeOverride;
    lines.push(
      `:unlock: Freeze ${o.freezes.map((f) => name(f, 60)).join(', ')} overridden by ${who(o.by)}: ${name(o.reason, 300)}`,
    );
  }
  if (s.failure) {
    const f = s.failure;
    const exit = f.exitCode !== undefined && f.exitCode !== null ? ` exited ${f.exitCode}` : ' failed';
    const err = f.error ? `: ${name(f.error, 400)}` : '';
    lines.push(
      `*First failure:* *${name(f.step, 60)}* on *${name(f.target, 60)}* — *${name(f.childStep, 60)}*${exit}${err}`,
    );
  }
  return lines;
}

/** Why nothing new starts: a pause (who, since when, why) and a freeze (which, until when). */
export function heldLines(s: RolloutSummary): string[] {
  const lines: string[] = [];
  if (s.paused) {
    const p = s.paused;
    lines.push(
      `:double_vertical_bar: *Paused* by ${who(p.by)} since ${formatUtcTime(p.at) ?? p.at}${p.reason ? `: ${name(p.reason, 300)}` : ''}`,
    );
  }
  if (s.frozen) {
    const f = s.frozen;
    lines.push(
      `:snowflake: *Frozen* by ${name(f.freeze, 60)} (${name(f.reason, 300)}) until ${utcMinute(f.until)}; resumes by itself`,
    );
  }
  return lines;
}

/** `*In flight in deploy (12):* web1, web2, … +2 more`, one line per step with targets in flight. */
export function inFlightLines(s: RolloutSummary): string[] {
  return s.steps
    .filter((st) => st.inFlightCount > 0)
    .map(
      (st) => `*In flight in ${name(st.name, 60)} (${st.inFlightCount}):* ${nameList(st.inFlight, st.inFlightCount)}`,
    );
}

export function temporalUrl(base: string, rolloutId: string, namespace: string = DEFAULT_NAMESPACE): string {
  return workflowUiUrl(base, namespace, rolloutId);
}

export function footerTexts(s: RolloutSummary, temporalUiUrl: string | undefined, namespace?: string): string[] {
  const texts = [`Rollout \`${name(s.rolloutId, 200)}\``];
  if (temporalUiUrl) texts.push(`<${temporalUrl(temporalUiUrl, s.rolloutId, namespace)}|Open in Temporal UI>`);
  return texts;
}

/** `*deploy* on *web3* — failed (exit 1), waiting since 14:01 UTC` / `*verify* — manual step, waiting since …`. */
export function pendingDecisionLine(d: Decision): string {
  const since = formatUtcTime(d.createdAt);
  const when = since ? `, waiting since ${since}` : '';
  if (d.kind === 'manual') return `:raised_hand: *${name(d.step, 60)}* — manual step${when}`;
  const on = d.target !== undefined ? ` on *${name(d.target, 60)}*` : '';
  const exit = d.exitCode !== undefined && d.exitCode !== null ? ` (exit ${d.exitCode})` : '';
  return `:x: *${name(d.step, 60)}*${on} — failed${exit}${when}`;
}
