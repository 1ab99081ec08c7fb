// `rollout rollback <deployable> [--of <rolloutId>] [--as who] [--json]`: rolls out the last release that
// succeeded before the deployable's latest one, through the same queue and steps as any rollout. A latest rollout
// that failed or was stopped is rolled back only on the targets that began receiving it, in reverse start order.
import { ownValue } from '../../../domain/access';
import { enqueueRollout, newRolloutId, NotConfirmedError, refusalOf } from '../../temporal/client';
import { prepareRollback } from '../../temporal/rollback';
import { temporalSettings } from '../../temporal/settings';
import {
  configFileOf,
  connectWith,
  defaultActor,
  err,
  EXIT,
  loadConfigOrReport,
  out,
  type CliContext,
} from '../context';
import { checkStarter } from './start';

export interface RollbackCommandOptions {
  of?: string;
  as?: string;
  json?: boolean;
  config?: string;
}

export async function rollbackCommand(
  ctx: CliContext,
  deployable: string,
  opts: RollbackCommandOptions,
): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  if (!file) {
    err(ctx, 'rollout rollback: no config file: pass --config <file> or set ROLLOUT_CONFIG');
    return EXIT.USAGE;
  }
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.USAGE;
  const requestedBy = opts.as ?? defaultActor(ctx.env);
  if (ownValue(config.raw.deployables, deployable)) {
    const denied = await checkStarter(config, deployable, requestedBy);
    if (denied) {
      err(ctx, `rollout rollback: nothing rolled back: ${denied}`);
      return EXIT.USAGE;
    }
  }
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings);
  const refused = (reason: string, refusal?: string) => {
    if (opts.json) out(ctx, JSON.stringify({ error: reason, ...(refusal ? { refusal } : {}) }, null, 2));
    err(ctx, `rollout rollback: nothing rolled back: ${reason}`);
    return EXIT.USAGE;
  };
  try {
    const prepared = await prepareRollback(conn.client, settings.taskQueue, config, {
      deployable,
      requestedBy,
      ...(opts.of !== undefined ? { of: opts.of } : {}),
    });
    if (!prepared.ok) return refused(prepared.reason);
    const { plan, choice } = prepared;
    const rolloutId = newRolloutId(plan);
    let queued;
    try {
      queued = await enqueueRollout(conn.client, settings.taskQueue, plan, rolloutId);
    } catch (e) {
      if (e instanceof NotConfirmedError) {
        err(ctx, `not confirmed: ${e.message}`);
        return EXIT.UNDELIVERED;
      }
      const r = refusalOf(e);
      if (r) return refused(r.reason, r.type);
      throw e;
    }
    const targets = plan.targets.map((t) => t.name);
    if (opts.json) {
      out(
        ctx,
        JSON.stringify(
          {
            rolloutId,
            deployable,
            release: plan.release,
            rollbackOf: choice.current.rolloutId,
            fromRelease: choice.current.release,
            partial: choice.partial,
            targets,
            position: queued.position,
          },
          null,
          2,
        ),
      );
    } else out(ctx, rolloutId);
    err(
      ctx,
      `rollout: rolling ${deployable} back from ${choice.current.release} (${choice.current.outcome}) to ${plan.release}` +
        (choice.partial
          ? ` on the ${targets.length} targets that began receiving it, in reverse order: ${targets.join(', ')}`
          : ` on ${targets.length} targets`) +
        ` as ${requestedBy}; follow it with: rollout status ${rolloutId}`,
    );
    return EXIT.OK;
  } finally {
    await conn.close();
  }
}
