// A plan preview (domain/preview.ts) as plain lines: the CLI prints them, the Slack preview escapes them into
// sections. Lists of targets are shortened, so a preview of 1,000 targets stays readable.
import { utcMinute } from './freezes';
import type { PlanPreview, PreviewStep } from './preview';

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
  if (step.type === 'double-half') {
    return [
      head,
      `   old half (${step.oldHalf.length}): ${namesText(step.oldHalf)}`,
      '   new half: the targets the provision script prints (known at run time)',
      `   each new target, window ${step.configuredWindow}: ${step.childSteps.join(', ') || '(no child steps)'}`,
      '   then: add the new half to the load balancer, decommission the old half',
    ];
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
