// `rollout lock <deployable> <reason...> [--take-over]` and `rollout unlock <deployable>`: hold a deployable so
// nobody else rolls it out (they are told who holds it and why); taking someone else's lock is explicit and
// recorded. Locking needs the same permission as starting (the deployable's starters); unlocking is the holder's.
import { ownValue } from '../../../domain/access';
import { DEFAULT_DELIVERY_TIMEOUT_MS } from '../../temporal/client';
import { lockDeployable, unlockDeployable } from '../../temporal/deployables';
import { temporalSettings } from '../../temporal/settings';
import {
  configFileOf,
  connectWith,
  defaultActor,
  err,
  EXIT,
  loadConfigOrReport,
  out,
  readTemporalSection,
  type CliContext,
} from '../context';
import { lockJson, lockLine } from '../releases';
import { timeoutMs } from './delivery';
import { checkStarter } from './start';
import type { Delivery } from '../../temporal/client';
import type { DeployableLock } from '../../../domain/locks';

export interface LockCommandOptions {
  as?: string;
  takeOver?: boolean;
  json?: boolean;
  config?: string;
  timeout?: number;
}

/** Prints a lock update's outcome: 0 accepted, 1 refused (who holds it), 3 not delivered. */
function report(
  ctx: CliContext,
  d: Delivery<DeployableLock>,
  json: boolean | undefined,
  accepted: (l: DeployableLock) => { text: string; json: unknown },
): number {
  if (d.outcome === 'accepted') {
    const a = accepted(d.result);
    out(ctx, json ? JSON.stringify(a.json, null, 2) : a.text);
    return EXIT.OK;
  }
  if (json)
    out(
      ctx,
      JSON.stringify({ error: d.reason, ...(d.outcome === 'rejected' && d.type ? { refusal: d.type } : {}) }, null, 2),
    );
  err(ctx, d.outcome === 'rejected' ? `rejected: ${d.reason}` : `not delivered: ${d.reason}`);
  return d.outcome === 'rejected' ? EXIT.FAILED : EXIT.UNDELIVERED;
}

export async function lockCommand(
  ctx: CliContext,
  deployable: string,
  reasonWords: string[],
  opts: LockCommandOptions,
): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  if (!file) {
    err(ctx, 'rollout lock: no config file: pass --config <file> or set ROLLOUT_CONFIG');
    return EXIT.USAGE;
  }
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.USAGE;
  if (!ownValue(config.raw.deployables, deployable)) {
    err(
      ctx,
      `rollout lock: unknown deployable "${deployable}" (known: ${Object.keys(config.raw.deployables).join(', ') || 'none'})`,
    );
    return EXIT.USAGE;
  }
  const reason = reasonWords.join(' ').trim();
  if (!reason) {
    err(ctx, 'rollout lock: say why: rollout lock <deployable> <reason...>');
    return EXIT.USAGE;
  }
  const by = opts.as ?? defaultActor(ctx.env);
  const denied = await checkStarter(config, deployable, by);
  if (denied) {
    err(ctx, `rollout lock: not locked: ${denied}`);
    return EXIT.USAGE;
  }
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings, false);
  try {
    const d = await lockDeployable(
      conn.client,
      settings.taskQueue,
      deployable,
      { by, reason, ...(opts.takeOver ? { takeOver: true } : {}) },
      timeoutMs(opts.timeout) ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    );
    return report(ctx, d, opts.json, (l) => ({
      text: `locked: ${lockLine(deployable, l)}`,
      json: { deployable, ...lockJson(l) },
    }));
  } finally {
    await conn.close();
  }
}

export async function unlockCommand(
  ctx: CliContext,
  deployable: string,
  opts: Omit<LockCommandOptions, 'takeOver'>,
): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings, false);
  try {
    const by = opts.as ?? defaultActor(ctx.env);
    const d = await unlockDeployable(
      conn.client,
      settings.taskQueue,
      deployable,
      by,
      timeoutMs(opts.timeout) ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    );
    return report(ctx, d, opts.json, (l) => ({
      text: `unlocked: ${deployable} (it was locked by ${l.holder} since ${l.since}: ${l.reason})`,
      json: { deployable, unlocked: lockJson(l) },
    }));
  } finally {
    await conn.close();
  }
}
