// `rollout decide <id> <decisionId> <choice> [--as who]`: answers a pending decision (a failed target or a manual
// step); prints whether the answer took effect.
import type { DecisionChoice } from '../../../domain/decisions';
import { decide, DEFAULT_DELIVERY_TIMEOUT_MS } from '../../temporal/client';
import { configFileOf, connectWith, defaultActor, readTemporalSection, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';
import { reportDelivery, timeoutMs } from './delivery';

export interface DecideCommandOptions {
  as?: string;
  config?: string;
  /** One JSON object on stdout (see reportDelivery). */
  json?: boolean;
  /** Seconds to keep trying to deliver (default 15). */
  timeout?: number;
}

export async function decideCommand(
  ctx: CliContext,
  rolloutId: string,
  decisionId: string,
  choice: DecisionChoice,
  opts: DecideCommandOptions,
): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings);
  try {
    const by = opts.as ?? defaultActor(ctx.env);
    const d = await decide(
      conn.client,
      rolloutId,
      decisionId,
      choice,
      by,
      timeoutMs(opts.timeout) ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    );
    return reportDelivery(
      ctx,
      'answer',
      d,
      (r) => `${r.decisionId} of ${rolloutId} answered "${r.choice}" by ${r.by} at ${r.at}`,
      opts.json,
    );
  } finally {
    await conn.close();
  }
}
