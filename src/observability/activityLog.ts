// Activity log lines that say which rollout they are about. An activity interceptor: every line an activity logs
// (`log` from @temporalio/activity, the SDK's own activity lines) gets the rollout id, step, target and child step
// of its input; a finished script gets one line at info with its exit code and duration; a failed activity one
// at warn. The activities themselves stay free of logging plumbing.
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import type { ChainResult } from '../../domain/chain';

/** The rollout fields of an activity's first argument (runScript's input, a Slack thread event…), if any. */
export function rolloutFieldsOf(arg: unknown): Record<string, string> {
  const fields: Record<string, string> = {};
  if (typeof arg !== 'object' || arg === null) return fields;
  const a = arg as {
    rolloutId?: unknown;
    stepName?: unknown;
    target?: { name?: unknown };
    child?: { name?: unknown };
    event?: { rolloutId?: unknown; summary?: { rolloutId?: unknown } };
  };
  const rolloutId = a.rolloutId ?? a.event?.rolloutId ?? a.event?.summary?.rolloutId;
  if (typeof rolloutId === 'string') fields.rolloutId = rolloutId;
  if (typeof a.stepName === 'string') fields.step = a.stepName;
  if (typeof a.target?.name === 'string') fields.target = a.target.name;
  if (typeof a.child?.name === 'string') fields.childStep = a.child.name;
  return fields;
}

export const rolloutActivityLogging: ActivityInterceptorsFactory = (ctx) => {
  let fields: Record<string, string> = {};
  // A whole chain in one activity (runChain): one line per child step that ran, as runScript gives for its one.
  const logChain = (result: unknown): void => {
    const children = (result as { children?: ChainResult['children'] } | undefined)?.children ?? [];
    for (const c of children) {
      if (c.state === 'skipped') continue;
      const ok = c.state === 'succeeded';
      const durationMs =
        c.startedAt && c.endedAt ? Math.max(0, Date.parse(c.endedAt) - Date.parse(c.startedAt)) : undefined;
      ctx.log[ok ? 'info' : 'warn'](ok ? 'script succeeded' : 'script failed', {
        childStep: c.name,
        exitCode: c.exitCode ?? null,
        ...(c.error ? { error: c.error } : {}),
        ...(durationMs !== undefined ? { durationMs } : {}),
      });
    }
  };
  return {
    inbound: {
      async execute(input, next) {
        fields = rolloutFieldsOf(input.args[0]);
        const t0 = Date.now();
        try {
          const result = await next(input);
          if (ctx.info.activityType === 'runScript') {
            const r = result as { exitCode?: number | null; timedOut?: boolean; error?: string };
            const ok = r.exitCode === 0 && !r.error;
            ctx.log[ok ? 'info' : 'warn'](ok ? 'script succeeded' : 'script failed', {
              exitCode: r.exitCode ?? null,
              timedOut: r.timedOut ?? false,
              ...(r.error ? { error: r.error } : {}),
              durationMs: Date.now() - t0,
            });
          }
          if (ctx.info.activityType === 'runChain') logChain(result);
          return result;
        } catch (e) {
          ctx.log.warn(`${ctx.info.activityType} failed`, {
            error: (e as Error)?.message ?? String(e),
            durationMs: Date.now() - t0,
          });
          throw e;
        }
      },
    },
    outbound: {
      getLogAttributes: (attrs, next) => next({ ...fields, ...attrs }),
    },
  };
};
