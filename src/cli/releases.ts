// What `rollout list`, `history`, `rollback`, `lock` and `unlock` print: a table for people, and JSON whose field
// names are documented in the README ("JSON output") and kept stable: each object is built field by field here,
// never dumped from a workflow's state, so a change inside the workflows cannot rename or leak a field.
import type { DeployableLock, LockEvent } from '../../domain/locks';
import type { ReleaseRecord, TargetVersion } from '../../domain/releases';
import type { DeployableState } from '../../workflows/queueMessages';
import type { ReleaseHistory } from '../../workflows/releaseMessages';

export const lockJson = (l: DeployableLock) => ({
  holder: l.holder,
  reason: l.reason,
  since: l.since,
  ...(l.takenFrom
    ? { takenFrom: { holder: l.takenFrom.holder, reason: l.takenFrom.reason, since: l.takenFrom.since } }
    : {}),
});

const lockEventJson = (e: LockEvent) => ({
  kind: e.kind,
  by: e.by,
  at: e.at,
  ...(e.reason !== undefined ? { reason: e.reason } : {}),
  ...(e.from !== undefined ? { from: e.from } : {}),
});

export const releaseJson = (r: ReleaseRecord) => ({
  rolloutId: r.rolloutId,
  release: r.release,
  outcome: r.outcome,
  requestedBy: r.requestedBy,
  requestedAt: r.requestedAt,
  startedAt: r.startedAt,
  endedAt: r.endedAt,
  rollbackOf: r.rollbackOf ?? null,
  targetsStarted: r.started ?? null,
  targetsReceived: r.received ?? null,
  ...(r.targets ? { targets: r.targets.map((t) => ({ name: t.name, received: t.received })) } : {}),
});

const versionJson = (v: TargetVersion) => ({ release: v.release, rolloutId: v.rolloutId, at: v.at });

/** `rollout history --json`: releases newest first, every target's current release, the lock and its changes. */
export function historyJson(deployable: string, h: ReleaseHistory | undefined) {
  return {
    deployable,
    lock: h?.lock ? lockJson(h.lock) : null,
    releases: [...(h?.releases ?? [])].reverse().map(releaseJson),
    targets: Object.fromEntries(
      Object.entries(h?.targets ?? {})
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([name, v]) => [name, versionJson(v)]),
    ),
    lockEvents: [...(h?.lockEvents ?? [])].reverse().map(lockEventJson),
  };
}

/** `rollout list --json`: per deployable, the lock, the running rollout, the queue and the recent ones (newest first). */
export function listJson(states: DeployableState[]) {
  return {
    deployables: states.map((s) => ({
      deployable: s.deployable,
      lock: s.lock ? lockJson(s.lock) : null,
      running: s.running
        ? {
            rolloutId: s.running.rolloutId,
            release: s.running.release,
            requestedBy: s.running.requestedBy,
            requestedAt: s.running.requestedAt,
            startedAt: s.running.startedAt,
          }
        : null,
      queued: s.queued.map((q, i) => ({
        position: i + 1,
        rolloutId: q.rolloutId,
        release: q.release,
        requestedBy: q.requestedBy,
        requestedAt: q.requestedAt,
      })),
      recent: [...s.recent].reverse().map((r) => ({
        rolloutId: r.rolloutId,
        release: r.release,
        status: r.status,
        requestedBy: r.requestedBy,
        endedAt: r.endedAt,
      })),
    })),
  };
}

/** Columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

export function lockLine(deployable: string, l: DeployableLock): string {
  const taken = l.takenFrom ? ` (taken over from ${l.takenFrom.holder}, who had it since ${l.takenFrom.since})` : '';
  return `${deployable} is locked by ${l.holder} since ${l.since}: ${l.reason}${taken}`;
}

export function formatHistory(deployable: string, h: ReleaseHistory | undefined): string {
  const lines: string[] = [];
  if (h?.lock) lines.push(lockLine(deployable, h.lock), '');
  const releases = [...(h?.releases ?? [])].reverse();
  if (releases.length === 0) {
    lines.push(`${deployable}: no releases yet`);
    return lines.join('\n');
  }
  lines.push(
    ...table(
      ['RELEASE', 'OUTCOME', 'TARGETS', 'BY', 'ENDED', 'ROLLOUT'],
      releases.map((r) => [
        r.release,
        r.outcome + (r.rollbackOf ? ' (rollback)' : ''),
        r.started !== undefined ? `${r.received}/${r.started}` : '?',
        r.requestedBy,
        r.endedAt,
        r.rolloutId,
      ]),
    ),
  );
  const targets = Object.entries(h?.targets ?? {}).sort(([a], [b]) => a.localeCompare(b));
  if (targets.length > 0) {
    lines.push(
      '',
      ...table(
        ['TARGET', 'RELEASE', 'SINCE'],
        targets.map(([n, v]) => [n, v.release, v.at]),
      ),
    );
  }
  return lines.join('\n');
}

export function formatList(states: DeployableState[]): string {
  if (states.length === 0) return 'no deployable has rolled out yet';
  const rows: string[][] = [];
  for (const s of states) {
    if (s.running) rows.push([s.deployable, 'running', s.running.release, s.running.requestedBy, s.running.rolloutId]);
    s.queued.forEach((q, i) => rows.push([s.deployable, `queued ${i + 1}`, q.release, q.requestedBy, q.rolloutId]));
    for (const r of [...s.recent].reverse().slice(0, 5))
      rows.push([s.deployable, r.status, r.release, r.requestedBy, r.rolloutId]);
    if (s.lock) rows.push([s.deployable, 'locked', '', s.lock.holder, s.lock.reason]);
  }
  return table(['DEPLOYABLE', 'STATE', 'RELEASE', 'BY', 'ROLLOUT'], rows).join('\n');
}
