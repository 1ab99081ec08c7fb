// `rollout start <deployable> <release> [--var K=V ...] [--as who] [--wait]`: validates the request against the
// config, starts the rollout and prints its id (stdout: the id alone, so scripts can capture it; its Temporal UI
// link, when the UI is known, goes to stderr). With --wait it
// follows progress on stderr until the rollout ends: exit 0 if it succeeded, 1 otherwise.
import type { Client } from '@temporalio/client';
import { workflowUiUrl } from '../../../domain/links';
import { expandList } from '../../../activities/approvers';
import { mayAct, ownValue } from '../../../domain/access';
import { outcomeCountsText } from '../../../domain/outcomes';
import type { DeployableLock } from '../../../domain/locks';
import type { RolloutPlan } from '../../../domain/plan';
import type { RolloutResult, RolloutSummary } from '../../../workflows/messages';
import { planHash, planPreview, previewText } from '../../config/preview';
import { judgeFreeze } from '../../config/freezes';
import { RequestError, buildPlan, startersOf } from '../../config/plan';
import type { Config } from '../../config/load';
import {
  enqueueRollout,
  getDeployableState,
  newRolloutId,
  NotConfirmedError,
  refusalOf,
  rolloutHandle,
  waitUntilStarted,
} from '../../temporal/client';
import {
  configFileOf,
  connectWith,
  defaultActor,
  EXIT,
  err,
  loadConfigOrReport,
  out,
  type CliContext,
} from '../context';
import { temporalSettings } from '../../temporal/settings';
import { getReleaseHistory } from '../../temporal/deployables';
import { choosePromotion } from '../../../domain/environments';
import { decisionLine, progressLine } from '../format';
import { fetchSummary } from '../rolloutState';

export interface StartCommandOptions {
  var?: string[];
  as?: string;
  wait?: boolean;
  config?: string;
  /** Start during a deploy freeze (the deployable's freezeOverriders only): the reason, recorded by the rollout. */
  overrideFreeze?: string;
  /** Print what would happen (and start nothing). */
  plan?: boolean;
  /** With --plan: the preview as JSON. */
  json?: boolean;
  /** How often --wait polls (default 1000 ms). */
  pollMs?: number;
  /** The deployable's environment to roll out to (required when it declares environments). */
  env?: string;
}

/** `K=V` strings → a record; undefined (after printing why) when one is malformed. */
function parseVars(ctx: CliContext, pairs: string[]): Record<string, string> | undefined {
  const entries: Array<[string, string]> = [];
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) {
      err(ctx, `rollout: --var expects NAME=VALUE, got ${JSON.stringify(pair)}`);
      return undefined;
    }
    entries.push([pair.slice(0, eq), pair.slice(eq + 1)]);
  }
  // Own properties for every name (`vars[name] = …` would drop `__proto__` silently, and start the rollout
  // without telling the user); buildPlan then refuses names the deployable does not declare.
  return Object.fromEntries(entries);
}

/**
 * The deployable's `starters` under the one rule (domain/access.ts): empty = anyone; otherwise the list expanded
 * through the config's groups. Slack user groups (`{ slack: … }`) cannot be expanded here and grant nothing.
 */
export async function checkStarter(
  config: Config,
  deployable: string,
  who: string,
  environment?: string,
): Promise<string | undefined> {
  const d = ownValue(config.raw.deployables, deployable);
  const starters = d ? startersOf(d, environment) : [];
  const { members } = await expandList(starters, config.raw.groups, undefined);
  if (mayAct(who, starters, members)) return undefined;
  const where = environment !== undefined ? ` in ${environment}` : '';
  return `${who} may not start ${deployable}${where} (starters: ${starters.join(', ')}); use --as with an allowed identity`;
}

/**
 * Is `who` in `list` under the one rule (domain/access.ts), the config's groups expanded? Callers decide what an
 * empty list means (for freezeOverriders: nobody; judgeFreeze checks that before asking).
 */
async function listed(config: Config, list: readonly string[], who: string): Promise<boolean> {
  const { members } = await expandList(list, config.raw.groups, undefined);
  return list.length > 0 && mayAct(who, list, members);
}

export async function startCommand(
  ctx: CliContext,
  deployable: string,
  release: string,
  opts: StartCommandOptions,
): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  if (!file) {
    err(ctx, 'rollout start: no config file: pass --config <file> or set ROLLOUT_CONFIG');
    return EXIT.USAGE;
  }
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.USAGE;
  const variables = parseVars(ctx, opts.var ?? []);
  if (!variables) return EXIT.USAGE;
  const requestedBy = opts.as ?? defaultActor(ctx.env);

  let plan;
  try {
    plan = buildPlan(config, {
      deployable,
      release,
      requestedBy,
      variables,
      ...(opts.env !== undefined ? { environment: opts.env } : {}),
    });
  } catch (e) {
    if (!(e instanceof RequestError)) throw e;
    err(ctx, `rollout start: not started, the request is invalid:`);
    for (const p of e.problems) err(ctx, p);
    return EXIT.USAGE;
  }
  const denied = await checkStarter(config, deployable, requestedBy, opts.env);
  if (denied) {
    err(ctx, `rollout start: not started: ${denied}`);
    return EXIT.USAGE;
  }
  if (opts.plan) return await printPreview(ctx, config, plan, opts.json === true);
  // Deploy freezes, on the wall clock at request time (a rollout that starts later, from the queue, during a
  // freeze holds until it ends: the workflow judges that on its own clock).
  const overriders = ownValue(config.raw.deployables, deployable)?.freezeOverriders ?? [];
  const verdict = await judgeFreeze(
    plan,
    new Date(),
    opts.overrideFreeze !== undefined ? { by: requestedBy, reason: opts.overrideFreeze } : undefined,
    () => listed(config, overriders, requestedBy),
    overriders,
  );
  if (!verdict.ok) {
    err(ctx, `rollout start: not started: ${verdict.reason}`);
    return EXIT.USAGE;
  }
  if (verdict.override) plan.freezeOverride = verdict.override;
  else if (opts.overrideFreeze !== undefined)
    err(ctx, 'rollout start: no freeze is in force; --override-freeze is ignored');

  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings);
  try {
    // Through the deployable's queue: one rollout per deployable at a time, first come first served.
    const rolloutId = newRolloutId(plan);
    let queued;
    try {
      queued = await enqueueRollout(conn.client, settings.taskQueue, plan, rolloutId);
    } catch (e) {
      // Refused by the queue (the deployable is locked by someone else, the id was taken): nothing started.
      const refused = refusalOf(e);
      if (refused) {
        err(ctx, `rollout start: not started: ${refused.reason}`);
        return EXIT.USAGE;
      }
      if (!(e instanceof NotConfirmedError)) throw e;
      out(ctx, opts.json ? JSON.stringify({ rolloutId, deployable, release, confirmed: false }, null, 2) : rolloutId);
      err(ctx, `not confirmed: ${e.message}`);
      return EXIT.UNDELIVERED;
    }
    const started = {
      rolloutId,
      deployable,
      release,
      requestedBy,
      targets: plan.targets.length,
      position: queued.position,
      ...(queued.runningRolloutId ? { runningRolloutId: queued.runningRolloutId } : {}),
    };
    // --json: one object on stdout; with --wait it comes at the end, with the rollout's final status.
    if (!opts.json) out(ctx, rolloutId);
    else if (!opts.wait) out(ctx, JSON.stringify(started, null, 2));
    err(
      ctx,
      (queued.position === 0
        ? 'rollout: started'
        : `rollout: queued (position ${queued.position}, behind ${queued.runningRolloutId ?? 'another rollout'})`) +
        ` ${deployable} ${release}${plan.environment !== undefined ? ` in ${plan.environment}` : ''} on ${plan.targets.length} target${plan.targets.length === 1 ? '' : 's'} ` +
        `as ${requestedBy} (task queue ${settings.taskQueue}, temporal ${conn.address})`,
    );
    // The link goes to stderr: stdout stays exactly the id, for scripts.
    const ui = ctx.env.ROLLOUT_TEMPORAL_UI_URL ?? conn.uiUrl;
    if (ui) err(ctx, `rollout: Temporal UI: ${workflowUiUrl(ui, conn.namespace, rolloutId)}`);
    if (!opts.wait) {
      err(ctx, `rollout: follow it with: rollout status ${rolloutId}`);
      return EXIT.OK;
    }
    await waitUntilStarted(conn.client, rolloutId, opts.pollMs ?? 1000, ctx.signal);
    const ended = await follow(ctx, conn.client, rolloutId, opts.pollMs ?? 1000);
    if (opts.json) out(ctx, JSON.stringify({ ...started, status: ended.status ?? 'unknown' }, null, 2));
    return ended.code;
  } finally {
    await conn.close();
  }
}

/**
 * `--plan`: what the rollout would do, and nothing started. The lock is looked up when Temporal answers (the
 * preview says when it could not be).
 */
async function printPreview(ctx: CliContext, config: Config, plan: RolloutPlan, json: boolean): Promise<number> {
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  let lock: DeployableLock | undefined;
  let lockUnknown: string | undefined;
  // Only a Temporal that is configured: a preview never starts the embedded dev server.
  if (!settings.address) lockUnknown = 'no Temporal address configured (TEMPORAL_ADDRESS or temporal.address)';
  else
    try {
      const conn = await connectWith(ctx, settings, false);
      try {
        lock = (await getDeployableState(conn.client, settings.taskQueue, plan.deployable))?.lock;
      } finally {
        await conn.close();
      }
    } catch (e) {
      lockUnknown = (e as Error).message;
    }
  const preview = await planPreview(plan, { now: new Date(), ...(lock ? { lock } : {}) });
  const hash = planHash(plan);
  if (json) {
    out(ctx, JSON.stringify({ ...preview, configHash: hash, ...(lockUnknown ? { lockUnknown } : {}) }, null, 2));
  } else {
    out(ctx, previewText(preview));
    if (lockUnknown) out(ctx, `Lock: not looked up (${lockUnknown})`);
    out(ctx, `Nothing was started. Start it with: rollout start ${plan.deployable} ${plan.release}`);
  }
  return EXIT.OK;
}

/**
 * `rollout promote <deployable> <release>`: rolls the release into the next environment of the deployable's
 * lifecycle (after the last one it succeeded in, by the deployable's release history), as `start --env` would.
 */
export async function promoteCommand(
  ctx: CliContext,
  deployable: string,
  release: string,
  opts: StartCommandOptions,
): Promise<number> {
  const file = configFileOf(ctx, opts.config);
  if (!file) {
    err(ctx, 'rollout promote: no config file: pass --config <file> or set ROLLOUT_CONFIG');
    return EXIT.USAGE;
  }
  const config = loadConfigOrReport(ctx, file);
  if (!config) return EXIT.USAGE;
  const d = ownValue(config.raw.deployables, deployable);
  if (!d) {
    err(
      ctx,
      `rollout promote: unknown deployable "${deployable}" (known: ${Object.keys(config.raw.deployables).join(', ') || 'none'})`,
    );
    return EXIT.USAGE;
  }
  const settings = temporalSettings(ctx.env, config.raw.temporal);
  const conn = await connectWith(ctx, settings);
  let history;
  try {
    history = await getReleaseHistory(conn.client, settings.taskQueue, deployable);
  } finally {
    await conn.close();
  }
  const choice = choosePromotion(deployable, d.lifecycle, history?.releases ?? [], release);
  if (!choice.ok) {
    err(ctx, `rollout promote: not started: ${choice.reason}`);
    return EXIT.USAGE;
  }
  err(ctx, `rollout: promoting ${deployable} ${release} from ${choice.from} to ${choice.to}`);
  return startCommand(ctx, deployable, release, { ...opts, env: choice.to });
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/** Prints progress (on change) and new pending decisions until the rollout ends. */
async function follow(
  ctx: CliContext,
  client: Client,
  rolloutId: string,
  pollMs: number,
): Promise<{ code: number; status?: string }> {
  type Outcome = { ok: true; result: RolloutResult } | { ok: false; error: Error };
  let outcome: Outcome | undefined;
  const ended = rolloutHandle(client, rolloutId)
    .result()
    .then(
      (result) => (outcome = { ok: true, result }),
      (error: Error) => (outcome = { ok: false, error }),
    );
  let lastLine = '';
  const announced = new Set<string>();
  let warnedNoWorker = false;
  const show = (s: RolloutSummary) => {
    const line = progressLine(s);
    if (line !== lastLine) err(ctx, `rollout: ${line}`);
    lastLine = line;
    for (const d of s.pendingDecisions) {
      if (announced.has(d.id)) continue;
      announced.add(d.id);
      err(ctx, `rollout: decision needed: ${decisionLine(d)}`);
      if (d.tail)
        err(
          ctx,
          d.tail
            .replace(/\s+$/, '')
            .split('\n')
            .slice(-5)
            .map((l) => `  | ${l}`)
            .join('\n'),
        );
      err(ctx, `rollout:   answer with: rollout decide ${rolloutId} ${d.id} <${d.choices.join('|')}>`);
    }
  };

  while (!outcome) {
    if (ctx.signal?.aborted) {
      err(ctx, `rollout: stopped waiting; the rollout goes on. Follow it with: rollout status ${rolloutId}`);
      return { code: 130, status: 'running' };
    }
    const r = await fetchSummary(client, rolloutId, 5000).catch(() => undefined);
    if (r?.kind === 'summary') show(r.summary);
    else if (r?.kind === 'unavailable' && !warnedNoWorker && !outcome) {
      warnedNoWorker = true;
      err(ctx, `rollout: no progress yet: ${r.reason}`);
    }
    if (outcome) break;
    await Promise.race([sleep(pollMs, ctx.signal), ended]);
  }

  const final = outcome as Outcome;
  if (!final.ok) {
    err(ctx, `rollout: ${rolloutId} ended without a result: ${final.error.message}`);
    return { code: EXIT.FAILED };
  }
  const { summary } = final.result;
  show(summary);
  const counts = summary.targetOutcomes ? ` (${outcomeCountsText(summary.targetOutcomes)})` : '';
  err(ctx, `rollout: ${rolloutId} ${summary.status}${counts}${summary.stopReason ? `: ${summary.stopReason}` : ''}`);
  return { code: summary.status === 'succeeded' ? EXIT.OK : EXIT.FAILED, status: summary.status };
}
