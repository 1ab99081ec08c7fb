// `rollout pause <id> [--reason r]`, `rollout resume <id>`, `rollout window <id> <n>` (each with --as who): steer a
// running rollout; prints whether that took effect. Exit 0 accepted, 1 rejected, 3 not delivered.
import type { Delivery } from '../../temporal/client';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from '../../temporal/client';
import { pauseRollout, resumeRollout, setRolloutWindow } from '../../temporal/steering';
import type { SteerResult } from '../../../workflows/steeringMessages';
import { configFileOf, connectWith, defaultActor, readTemporalSection, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';
import { reportDelivery, timeoutMs } from './delivery';

export interface SteerCommandOptions {
  as?: string;
  reason?: string;
  config?: string;
  /** One JSON object on stdout (see reportDelivery). */
  json?: boolean;
  /** Seconds to keep trying to deliver (default 15). */
  timeout?: number;
}

export type SteerAction = { kind: 'pause' } | { kind: 'resume' } | { kind: 'window'; window: number };

export async function steerCommand(
  ctx: CliContext,
  rolloutId: string,
  action: SteerAction,
  opts: SteerCommandOptions,
): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings);
  try {
    const by = opts.as ?? defaultActor(ctx.env);
    const ms = timeoutMs(opts.timeout) ?? DEFAULT_DELIVERY_TIMEOUT_MS;
    let d: Delivery<SteerResult>;
    switch (action.kind) {
      case 'pause':
        d = await pauseRollout(conn.client, rolloutId, by, opts.reason, ms);
        break;
      case 'resume':
        d = await resumeRollout(conn.client, rolloutId, by, ms);
        break;
      case 'window':
        d = await setRolloutWindow(conn.client, rolloutId, action.window, by, ms);
        break;
    }
    const what = action.kind === 'window' ? 'window change' : action.kind;
    return reportDelivery(
      ctx,
      what,
      d,
      (r) => `${rolloutId} ${r.message} (by ${r.record.by} at ${r.record.at})`,
      opts.json,
    );
  } finally {
    await conn.close();
  }
}
