// Human-readable rendering of rollout summaries and target details (status, start --wait).
import type { Decision, RolloutSummary, StepSummary, TargetDetail, TargetState } from '../../workflows/messages';
import type { SteeringRecord } from '../../workflows/steeringMessages';
import { doubleHalfText } from '../../domain/doubleHalf';

const STATE_ORDER: TargetState[] = ['succeeded', 'running', 'waiting', 'failed', 'excluded', 'skipped', 'pending'];

/** `succeeded 2, running 1` (non-zero counts only), or `no targets yet`. */
export function formatCounts(counts: Record<TargetState, number>): string {
  const parts = STATE_ORDER.filter((s) => (counts[s] ?? 0) > 0).map((s) => `${s} ${counts[s]}`);
  return parts.length > 0 ? parts.join(', ') : 'no targets yet';
}

function stepHeader(s: StepSummary): string {
  const window =
    s.window !== undefined
      ? [`window ${s.window}${s.configuredWindow !== undefined ? ` (overrides ${s.configuredWindow})` : ''}`]
      : [];
  const r = s.ramp;
  const waiting = r?.waiting
    ? r.waiting.kind === 'bake'
      ? `, baking until ${r.waiting.until}`
      : `, waiting for ${r.waiting.decisionId}`
    : '';
  const ramp =
    r && s.configuredWindow === undefined ? [`ramp ${r.windows}: stage ${r.stage} of ${r.stages}${waiting}`] : [];
  const extra = [s.type, ...window, ...ramp].join(', ');
  return `${s.name} (${extra}): ${s.state}`;
}

/** A steering record as one line: `paused by U1 at …: reason`. */
export function steeringLine(r: SteeringRecord): string {
  switch (r.kind) {
    case 'paused':
      return `paused by ${r.by} at ${r.at}${r.reason ? `: ${r.reason}` : ''}`;
    case 'resumed':
      return `resumed by ${r.by} at ${r.at}`;
    case 'window':
      return `window set to ${r.window} by ${r.by} at ${r.at}${r.previous !== undefined ? ` (was ${r.previous})` : ''}`;
    case 'maxParallelism':
      return `MaxParallelism ${r.window} overrides the window of ${r.step} (configured: ${r.configured})`;
    case 'frozen':
      return `frozen by ${r.freeze} (${r.reason}) at ${r.at}, until ${r.until}`;
    case 'thawed':
      return `freeze ${r.freeze} ended at ${r.at}: resumed`;
    case 'freezeOverridden':
      return `freeze ${r.freezes.join(', ')} overridden by ${r.by} at ${r.at}: ${r.reason}`;
  }
}

/** One line for progress output: `deploy: succeeded 2, running 1 | smoke: pending`. */
export function progressLine(s: RolloutSummary): string {
  const steps = s.steps.map(
    (st) => `${st.name}: ${st.state === 'pending' || st.state === 'skipped' ? st.state : formatCounts(st.counts)}`,
  );
  return `[${s.status}] ${steps.join(' | ')}`;
}

function indent(text: string, prefix: string): string {
  return text
    .replace(/\s+$/, '')
    .split('\n')
    .map((l) => `${prefix}${l}`)
    .join('\n');
}

export function decisionLine(d: Decision): string {
  const where = [
    d.target ? `target ${d.target}` : undefined,
    `step ${d.step}${d.childStep && d.childStep !== d.step ? `/${d.childStep}` : ''}`,
  ]
    .filter(Boolean)
    .join(', ');
  const exit = d.exitCode !== undefined ? `, exit code ${d.exitCode === null ? 'none' : d.exitCode}` : '';
  return `${d.id}: ${d.kind} on ${where}${exit}`;
}

export function formatDecision(d: Decision, rolloutId: string): string[] {
  const lines = [`  ${decisionLine(d)} (since ${d.createdAt})`];
  if (d.instructions) lines.push(indent(d.instructions, '      '));
  if (d.tail) lines.push('    output tail:', indent(d.tail, '      | '));
  lines.push(`    answer: rollout decide ${rolloutId} ${d.id} <${d.choices.join('|')}>`);
  return lines;
}

export function formatSummary(s: RolloutSummary): string {
  const lines: string[] = [];
  lines.push(`${s.rolloutId}: ${s.status}`);
  lines.push(
    `  ${s.deployable} ${s.release}, requested by ${s.requestedBy}, ${s.totalTargets} target${s.totalTargets === 1 ? '' : 's'}`,
  );
  lines.push(`  started ${s.startedAt}${s.endedAt ? `, ended ${s.endedAt}` : ''}`);
  if (s.stopReason) lines.push(`  reason: ${s.stopReason}`);
  if (s.failure) {
    const f = s.failure;
    const exit = f.exitCode !== undefined ? `, exit code ${f.exitCode}` : '';
    lines.push(`  failure: ${f.target} at ${f.step}/${f.childStep}${exit}${f.error ? `: ${f.error}` : ''}`);
  }
  if (s.currentStep && s.status === 'running') lines.push(`  current step: ${s.currentStep}`);
  if (s.status === 'running' && s.paused) {
    const p = s.paused;
    lines.push(`  PAUSED by ${p.by} since ${p.at}${p.reason ? `: ${p.reason}` : ''} (nothing new starts; resume it)`);
  }
  if (s.status === 'running' && s.frozen) {
    const f = s.frozen;
    lines.push(`  FROZEN by ${f.freeze} (${f.reason}) until ${f.until}; resumes by itself`);
  }
  if (s.windowOverride) lines.push(`  window override: ${s.windowOverride.window} (by ${s.windowOverride.by})`);
  lines.push('steps:');
  for (const st of s.steps) {
    lines.push(`  ${stepHeader(st)} — ${formatCounts(st.counts)}`);
    if (st.doubleHalf) lines.push(`    ${doubleHalfText(st.doubleHalf)}`);
    if (st.inFlightCount > 0) {
      const more = st.inFlightCount > st.inFlight.length ? ` (+${st.inFlightCount - st.inFlight.length} more)` : '';
      lines.push(`    in flight: ${st.inFlight.join(', ')}${more}`);
    }
  }
  if (s.pendingDecisions.length > 0) {
    lines.push('pending decisions:');
    for (const d of s.pendingDecisions) lines.push(...formatDecision(d, s.rolloutId));
  }
  if (s.steering && s.steering.length > 0) {
    lines.push('steering:');
    for (const r of s.steering) lines.push(`  ${steeringLine(r)}`);
  }
  if (s.recentDecisions.length > 0) {
    lines.push('recent decisions:');
    for (const d of s.recentDecisions) {
      const a = d.answer;
      lines.push(`  ${decisionLine(d)} → ${a ? `${a.choice} by ${a.by} at ${a.at}` : 'unanswered'}`);
    }
  }
  return lines.join('\n');
}

export function formatTarget(rolloutId: string, t: TargetDetail): string {
  const lines = [`${rolloutId} / ${t.name}: ${t.state}`];
  if (t.steps.length === 0) lines.push('  (no step has reached this target yet)');
  for (const st of t.steps) {
    const when = [st.startedAt ? `started ${st.startedAt}` : '', st.endedAt ? `ended ${st.endedAt}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`  ${st.step}: ${st.state}${when ? ` (${when})` : ''}`);
    for (const c of st.children) {
      const exit = c.exitCode !== undefined ? `, exit code ${c.exitCode}` : '';
      const attempt = c.attempt > 1 ? `, attempt ${c.attempt}` : '';
      lines.push(`    ${c.name}: ${c.state}${exit}${attempt}${c.error ? ` — ${c.error}` : ''}`);
      if (c.tail) lines.push(indent(c.tail, '      | '));
    }
  }
  const outputs = Object.entries(t.outputs);
  if (outputs.length > 0) {
    lines.push('  outputs:');
    for (const [step, vars] of outputs)
      for (const [k, v] of Object.entries(vars)) lines.push(`    ${step}.${k} = ${v}`);
  }
  return lines.join('\n');
}
