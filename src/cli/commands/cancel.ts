// `rollout cancel <id> [--as who] [--reason r]`: asks the rollout to stop (it finishes or stops in-flight scripts
// per its own rules); prints whether that took effect.
import { cancelRollout, DEFAULT_DELIVERY_TIMEOUT_MS } from '../../temporal/client';
import { configFileOf, connectWith, defaultActor, readTemporalSection, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';
import { reportDelivery, timeoutMs } from './delivery';

export interface CancelCommandOptions {
  as?: string;
  reason?: string;
  config?: string;
  /** One JSON object on stdout (see reportDelivery). */
  json?: boolean;
  /** Seconds to keep trying to deliver (default 15). */
  timeout?: number;
}

export async function cancelCommand(ctx: CliContext, rolloutId: string, opts: CancelCommandOptions): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings);
  try {
    const by = opts.as ?? defaultActor(ctx.env);
    const d = await cancelRollout(
      conn.client,
      rolloutId,
      by,
      opts.reason,
      timeoutMs(opts.timeout) ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    );
    return reportDelivery(
      ctx,
      'cancel',
      d,
      (r) => `${rolloutId} is ${r.status === 'running' ? 'stopping' : r.status}: ${r.message}`,
      opts.json,
    );
  } finally {
    await conn.close();
  }
}
