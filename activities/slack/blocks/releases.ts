// Ephemeral answers about a deployable's releases and lock: `/rollout history`, the rollback prompt of
// `/rollout rollback`, and what a lock (or a refusal because of one) looks like.
import type { DeployableLock } from '../../../domain/locks';
import type { ReleaseRecord } from '../../../domain/releases';
import type { ReleaseHistory } from '../../../workflows/releaseMessages';
import { BLOCK_HISTORY, BLOCK_ROLLBACK_PROMPT, nthBlockId } from './ids';
import { rollbackButton } from './root';
import { STATUS_EMOJI } from './summary';
import {
  contextBlock,
  fallback,
  formatUtcTime,
  mrkdwnSection,
  name,
  nameList,
  packLines,
  plural,
  who,
  type Block,
  type SlackMessage,
} from './text';

/** Releases listed by `/rollout history` (newest first); the CLI shows them all. */
export const HISTORY_SHOWN = 15;

/** `:lock: *web-farm* is locked by <@U1> since 14:03 UTC: db migration (taken over from <@U2>)`. */
export function lockNotice(deployable: string, lock: DeployableLock): string {
  const since = formatUtcTime(lock.since) ?? lock.since;
  const taken = lock.takenFrom ? ` (taken over from ${who(lock.takenFrom.holder)})` : '';
  return `:lock: *${name(deployable, 80)}* is locked by ${who(lock.holder)} since ${since}: ${name(lock.reason, 500)}${taken}`;
}

function releaseLine(r: ReleaseRecord): string {
  const targets = r.started !== undefined ? ` · ${r.received}/${plural(r.started, 'target')}` : '';
  const when = formatUtcTime(r.endedAt) ?? r.endedAt;
  const rollback = r.rollbackOf ? ' _(rollback)_' : '';
  return `${STATUS_EMOJI[r.outcome]} *${name(r.release, 130)}*${rollback} ${r.outcome} by ${who(r.requestedBy)}, ${name(r.endedAt.slice(0, 10), 10)} ${when}${targets} · \`${name(r.rolloutId, 200)}\``;
}

/** `/rollout history <deployable>`: the lock, the latest releases (newest first), what each target runs. */
export function historyMessage(deployable: string, h: ReleaseHistory | undefined): SlackMessage {
  const releases = [...(h?.releases ?? [])].reverse();
  const lines: string[] = [];
  if (h?.lock) lines.push(lockNotice(deployable, h.lock));
  if (releases.length === 0) lines.push(`*${name(deployable, 80)}* has no releases yet.`);
  else {
    lines.push(`*Releases of ${name(deployable, 80)}* (newest first):`);
    lines.push(...releases.slice(0, HISTORY_SHOWN).map(releaseLine));
    if (releases.length > HISTORY_SHOWN)
      lines.push(
        `_+${plural(releases.length - HISTORY_SHOWN, 'older release')}: \`rollout history ${name(deployable, 80)}\`_`,
      );
  }
  const byRelease = new Map<string, string[]>();
  for (const [t, v] of Object.entries(h?.targets ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    byRelease.set(v.release, [...(byRelease.get(v.release) ?? []), t]);
  }
  const runs = [...byRelease].map(([release, ts]) => `*${name(release, 130)}* on ${nameList(ts, ts.length, 10)}`);
  const blocks: Block[] = packLines(lines, BLOCK_HISTORY, 4, (n) => `_+${n} more_`, nthBlockId);
  if (runs.length > 0) blocks.push(contextBlock([`Targets run: ${runs.join(' · ')}`], `${BLOCK_HISTORY}.targets`));
  return { text: fallback(`${name(deployable, 80)}: ${plural(releases.length, 'release')}`), blocks };
}

/** `/rollout rollback <deployable>`: what would happen, behind a confirmed Roll back button. */
export function rollbackPrompt(
  current: ReleaseRecord & { deployable: string },
  to: string,
  targets: readonly string[] | undefined,
): SlackMessage {
  const where = targets
    ? `on the ${plural(targets.length, 'target')} that began receiving it, last first: ${nameList(targets, targets.length)}`
    : 'on every target';
  const text = `Roll *${name(current.deployable, 80)}* back from *${name(current.release, 130)}* (${current.outcome}) to *${name(to, 130)}* ${where}?`;
  return {
    text: fallback(`Roll ${name(current.deployable, 80)} back to ${name(to, 130)}?`),
    blocks: [
      mrkdwnSection(text, BLOCK_ROLLBACK_PROMPT),
      {
        type: 'actions',
        block_id: `${BLOCK_ROLLBACK_PROMPT}.actions`,
        elements: [
          rollbackButton(
            {
              rolloutId: current.rolloutId,
              deployable: current.deployable,
              release: current.release,
              status: current.outcome,
            },
            to,
          ),
        ],
      },
    ],
  };
}
