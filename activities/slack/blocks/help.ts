// The ephemeral answer to `/rollout help` (and to a command the bot did not understand).
import { RELEASE_MAX_LENGTH, RELEASE_SYMBOLS } from '../../../domain/variables';
import { BLOCK_HELP, nthBlockId } from './ids';
import { escapeMrkdwn, fallback, mrkdwnSection, name, packLines, plural, type SlackMessage } from './text';

const USAGE: ReadonlyArray<readonly [string, string]> = [
  ['/rollout <deployable> <release>', 'start a rolling deployment'],
  ['/rollout <deployable> <release> <environment>', 'start it in one of its environments'],
  ['/rollout <deployable> <release> --plan', 'preview what it would do, with a Start button; nothing runs until Start'],
  ['/rollout promote <deployable> <release>', 'roll a release into the next environment of its lifecycle'],
  ['/rollout status [id|deployable]', 'show a rollout (the latest of a deployable), or all running ones'],
  ['/rollout list', 'list the running rollouts'],
  ['/rollout cancel <id>', 'cancel a running rollout'],
  ['/rollout history <deployable>', 'its releases and what each target runs'],
  ['/rollout rollback <deployable>', 'roll back to the last release that succeeded before the latest'],
  ['/rollout lock <deployable> <reason> [--take-over]', 'hold it: nobody else rolls it out'],
  ['/rollout unlock <deployable>', 'release your lock'],
  ['/rollout pause <id> [reason]', 'pause a running rollout: targets in flight finish, nothing new starts'],
  ['/rollout resume <id>', 'resume a paused rollout'],
  ['/rollout window <id> <n>', 'change the window of a running rollout'],
  ['/rollout <deployable> <release> --override-freeze <reason>', 'start during a deploy freeze (its overriders only)'],
  ['/rollout help', 'show this help'],
];

/** Names listed per line of the deployables list; long lists are packed and cut with `+N more`. */
const DEPLOYABLES_PER_LINE = 10;

export function help(deployables: readonly string[]): SlackMessage {
  const usage = [
    '*Usage*',
    ...USAGE.map(([cmd, what]) => `\`${escapeMrkdwn(cmd)}\` — ${escapeMrkdwn(what)}`),
    '',
    `*Release:* starts with a letter or digit, then letters, digits and \`${RELEASE_SYMBOLS}\`, at most ${RELEASE_MAX_LENGTH} characters ` +
      '(e.g. `v2`, `2.3.1`, `v2.1+build.7`).',
  ].join('\n');

  const sorted = [...new Set(deployables)].sort((a, b) => a.localeCompare(b));
  const lines: string[] = [];
  if (sorted.length === 0) {
    lines.push('*You may not roll out any deployable.* Ask an admin to add you to a deployable’s approvers.');
  } else {
    lines.push(`*You may roll out* (${plural(sorted.length, 'deployable')}):`);
    for (let i = 0; i < sorted.length; i += DEPLOYABLES_PER_LINE) {
      lines.push(
        sorted
          .slice(i, i + DEPLOYABLES_PER_LINE)
          .map((d) => `\`${name(d, 80)}\``)
          .join(', '),
      );
    }
  }
  const first = sorted[0];
  const example = first !== undefined ? `\`/rollout ${name(first, 80)} v2\`` : '`/rollout web-farm v2`';
  return {
    text: fallback(
      `Usage: /rollout &lt;deployable&gt; &lt;release&gt; (e.g. ${example.replace(/`/g, '')}), status, list, cancel, pause, resume, window, help`,
    ),
    blocks: [
      mrkdwnSection(`${usage}\nExample: ${example}`, BLOCK_HELP),
      ...packLines(
        lines,
        `${BLOCK_HELP}.deployables`,
        3,
        (dropped) => `_+${sorted.length - (lines.length - 1 - dropped) * DEPLOYABLES_PER_LINE} more_`,
        nthBlockId,
      ),
    ],
  };
}
