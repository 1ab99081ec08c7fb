// The plan preview (`/rollout <deployable> <release> --plan`), ephemeral: what would happen, step by step, and a
// Start button that starts exactly this plan (refused at click time when the config changed since).
import type { PlanPreview } from '../../../domain/preview';
import { factLines, stepLines } from '../../../domain/previewText';
import { ACTION_START_PREVIEWED, BLOCK_PREVIEW, encodePreviewValue, nthBlockId } from './ids';
import { button, escapeMrkdwn, fallback, name, packLines, type Block, type SlackMessage } from './text';

/** At most this many sections of steps (a message holds 50 blocks). */
const MAX_STEP_SECTIONS = 40;

export function previewMessage(p: PlanPreview, hash: string): SlackMessage {
  const facts = factLines(p).map(escapeMrkdwn);
  const steps = p.steps.flatMap((s, i) => stepLines(s, i).map(escapeMrkdwn));
  const blocks: Block[] = [
    ...packLines(
      [`*${facts[0] ?? ''}*`, ...facts.slice(1), '', ...steps.map((l) => (/^\d+\. /.test(l) ? `*${l}*` : l))],
      BLOCK_PREVIEW,
      MAX_STEP_SECTIONS,
      (n) => `… and ${n} more lines (see \`rollout start --plan\`)`,
      nthBlockId,
    ),
    {
      type: 'actions',
      block_id: `${BLOCK_PREVIEW}.actions`,
      elements: [
        button({
          text: 'Start',
          actionId: ACTION_START_PREVIEWED,
          value: encodePreviewValue({ deployable: p.deployable, release: p.release, hash }),
          style: 'primary',
          confirm: {
            title: 'Start this rollout?',
            text: `${p.deployable} ${p.release} on ${p.targets.length} target${p.targets.length === 1 ? '' : 's'}, as previewed.`,
            confirm: 'Start',
          },
        }),
      ],
    },
  ];
  return {
    text: fallback(`Plan: ${name(p.deployable)} ${name(p.release, 130)}: ${p.steps.length} steps, nothing started yet`),
    blocks,
  };
}
