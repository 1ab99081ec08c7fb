// The plan preview for the bot and the CLI: expands the approver lists (the one rule, with the bot's Slack
// directory when there is one), previews the plan (domain/preview.ts), and fingerprints what the preview was
// built from so a later Start can refuse when the config changed in between.
import { createHash } from 'node:crypto';
import { expandList, type ApproverDirectory } from '../../activities/approvers';
import type { DeployableLock } from '../../domain/locks';
import type { RolloutPlan } from '../../domain/plan';
import { listKey, manualApprovers, previewPlan, type PlanPreview, type PreviewStep } from '../../domain/preview';
import { utcMinute } from '../../domain/freezes';

export async function planPreview(
  plan: RolloutPlan,
  opts: { now: Date; lock?: DeployableLock; directory?: ApproverDirectory },
): Promise<PlanPreview> {
  const expanded = new Map<string, { members: string[]; unresolved: string[] }>();
  for (const step of plan.steps) {
    if (step.type !== 'manual') continue;
    const list = manualApprovers(plan, step);
    if (expanded.has(listKey(list))) continue;
    const e = await expandList(list, plan.groups, opts.directory);
    expanded.set(listKey(list), { members: [...e.members], unresolved: e.unresolved });
  }
  return previewPlan(plan, { now: opts.now.getTime(), expanded, ...(opts.lock ? { lock: opts.lock } : {}) });
}

/**
 * A fingerprint of everything a rollout of this plan would capture from the config: its targets (with their
 * variables and transport), steps, windows, approvers, groups, variables and freezes. The request's own facts
 * (who, the Slack root) are left out: the same request on the same config gives the same hash. 16 hex digits.
 */
export function planHash(plan: RolloutPlan): string {
  const { requestedBy: _by, slack: _slack, freezeOverride: _override, ...fromConfig } = plan;
  return createHash('sha256').update(JSON.stringify(fromConfig)).digest('hex').slice(0, 16);
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A list of names, shortened past `max` (a farm of 1,000 targets stays readable). */
export function namesText(names: readonly string[], max = 20): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')} … and ${names.length - max} more`;
}

function runsText(s: {
  runs: string;
  condition?: { expression: string; verdict: string };
  skippedOn?: readonly string[];
}): string {
  const runs = s.runs === 'runs' ? '' : ` (${s.runs})`;
  if (!s.condition) return runs;
  const v =
    s.condition.verdict === 'run time'
      ? 'decided at run time'
      : s.condition.verdict === 'false'
        ? 'false: skipped'
        : s.skippedOn && s.skippedOn.length > 0
          ? 'known per target'
          : 'true';
  return `${runs} if ${s.condition.expression} [${v}]`;
}

/** One step's lines (the CLI prints them; the Slack preview puts them in a section). */
export function stepLines(step: PreviewStep, index: number): string[] {
  const head = `${index + 1}. ${step.name} (${step.type})${runsText(step)}`;
  if (step.type === 'manual') {
    const a = step.approvers;
    const who = a.anyone
      ? 'anyone'
      : `${a.list.join(', ')}${a.members.length > 0 ? ` = ${namesText(a.members)}` : ''}` +
        (a.unresolved.length > 0 ? ` (not expandable here: ${a.unresolved.map((g) => `@${g}`).join(', ')})` : '');
    const timeout = step.timeoutSec !== undefined ? `; after ${step.timeoutSec}s: ${step.onTimeout}` : '';
    return [head, `   approvers: ${who}${timeout}`];
  }
  const lines = [head];
  lines.push(`   targets (${step.targets.length}, in order): ${namesText(step.targets)}`);
  if (step.skippedOn.length > 0) lines.push(`   skipped on: ${namesText(step.skippedOn)}`);
  if (step.maxParallelism !== undefined)
    lines.push(`   window: ${step.window} (MaxParallelism=${step.maxParallelism} overrides ${step.configuredWindow})`);
  else if (step.stages) {
    lines.push(`   window: ${step.configuredWindow}: ${plural(step.stages.length, 'stage')}`);
    for (const st of step.stages.slice(0, 20)) lines.push(`     stage ${st.stage}: ${namesText(st.targets, 10)}`);
    if (step.stages.length > 20) lines.push(`     … and ${step.stages.length - 20} more stages`);
    const b = step.between;
    if (b)
      lines.push(
        `   between stages: ${[
          b.bakeSec !== undefined ? `bake ${b.bakeSec}s` : '',
          b.manual ? 'manual Proceed / Abort' : '',
        ]
          .filter(Boolean)
          .join(', then ')}`,
      );
  } else if (step.type === 'rolling') lines.push(`   window: ${step.window} at a time (${step.configuredWindow})`);
  else lines.push(`   window: ${step.window === step.targets.length ? 'all at once' : `${step.window} at a time`}`);
  for (const c of step.childSteps) {
    const skipped = c.skippedOn.length > 0 ? `; skipped on ${namesText(c.skippedOn, 10)}` : '';
    lines.push(`   - ${c.name}${runsText(c)}${skipped}`);
  }
  return lines;
}

/** The preview's header facts: targets, override, freezes, lock. */
export function factLines(p: PlanPreview): string[] {
  const lines = [`Plan: ${p.deployable} ${p.release} as ${p.requestedBy}, ${plural(p.targets.length, 'target')}`];
  if (p.maxParallelism !== undefined)
    lines.push(`MaxParallelism=${p.maxParallelism} overrides the window of every rolling step`);
  for (const f of p.freezes)
    lines.push(
      f.inForce
        ? `Freeze in force: ${f.name} until ${utcMinute(f.until)}: ${f.reason} (a start is refused unless overridden)`
        : `Freeze ahead: ${f.name} from ${utcMinute(f.from)} until ${utcMinute(f.until)}: ${f.reason}`,
    );
  if (p.lockedOut) lines.push(`Locked: ${p.lockedOut} (a start is refused)`);
  else if (p.lock) lines.push(`Locked by you since ${p.lock.since}: ${p.lock.reason}`);
  return lines;
}

export function previewText(p: PlanPreview): string {
  return [...factLines(p), ...p.steps.flatMap((s, i) => stepLines(s, i))].join('\n');
}
