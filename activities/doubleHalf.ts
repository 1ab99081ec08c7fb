// The worker-host hooks of a double-half step (domain/doubleHalf.ts): provision, add to the load balancer,
// decommission. Each runs once on the worker's host through the local transport, in the step's hook workdir, under a
// stable run id (a retry of the activity re-attaches to the run, it never starts the script again). The provision
// script's target lines are validated here: bad output is refused with the line and the field that are wrong.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { z } from 'zod';
import { MAX_NEW_TARGETS, PROVISION_LINE_PREFIX, type ProvisionedTarget, type WorkerHook } from '../domain/doubleHalf';
import type { TargetPlan } from '../domain/plan';
import { envName } from '../domain/variables';
import { keepTail, TAIL_LIMITS } from '../domain/text';
import { hostProblem } from '../src/config/safeValues';
import { joinTail } from './scripts';
import { TransportError, type Transport } from './transports/types';

export type HookKind = 'provision' | 'addToLoadBalancer' | 'decommission';

export interface WorkerHookInput {
  rolloutId: string;
  stepName: string;
  hook: HookKind;
  /** Which half the hook is about: the new one (provision, add, decommission after a failure) or the old one. */
  half: 'old' | 'new';
  spec: WorkerHook;
  hookWorkdir: string;
  /** The targets of that half (none for provision). */
  targets: Array<Pick<TargetPlan, 'name' | 'host' | 'port' | 'variables'>>;
  release: string;
  deployable: string;
  requestedBy: string;
  variables: Record<string, string>;
  /** Names already taken (the plan's targets): a provisioned target may not reuse one. */
  takenNames?: string[];
}

export interface WorkerHookOutput {
  exitCode: number | null;
  tail: string;
  /** The script did not succeed, or (provision) its output was refused: why. */
  error?: string;
  /** provision: the targets it printed that are valid (also when it failed: they may exist and need decommissioning). */
  targets?: ProvisionedTarget[];
}

const nameRe = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const provisionedSchema = z.strictObject({
  name: z.string().regex(nameRe, 'must start with a letter or digit and hold only letters, digits, _ . - (at most 63)'),
  host: z.string().superRefine((v, ctx) => {
    const problem = hostProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
  port: z.number().int('must be a whole number').min(1).max(65535).default(22),
  variables: z
    .record(
      z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,99}$/, 'variable names: letters, digits, _'),
      z.string().max(4096),
    )
    .optional(),
});

/**
 * Parses the provision script's output lines: every line starting with `##rollout[target ` must be
 * `##rollout[target {json}]` with a valid target; other lines are ordinary output. Returns the targets and the
 * problems (each naming the line number and the field).
 */
export function parseProvisionLines(
  lines: string[],
  takenNames: readonly string[] = [],
): { targets: ProvisionedTarget[]; problems: string[] } {
  const targets: ProvisionedTarget[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  const taken = new Set(takenNames);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line.startsWith(PROVISION_LINE_PREFIX)) return;
    const where = `provision output line ${i + 1}`;
    if (!line.endsWith(']')) {
      problems.push(`${where}: a target line must end with "]": ${line.slice(0, 120)}`);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(line.slice(PROVISION_LINE_PREFIX.length, -1));
    } catch (e) {
      problems.push(`${where}: not JSON: ${(e as Error).message}`);
      return;
    }
    const r = provisionedSchema.safeParse(json);
    if (!r.success) {
      for (const issue of r.error.issues) {
        problems.push(`${where}: ${issue.path.length ? issue.path.join('.') : '(target)'}: ${issue.message}`);
      }
      return;
    }
    const t = r.data;
    if (seen.has(t.name)) {
      // The same target printed twice (a re-attached run replays its output): the first one counts if equal.
      const first = targets.find((x) => x.name === t.name);
      if (first && (first.host !== t.host || first.port !== t.port))
        problems.push(`${where}: name: "${t.name}" printed twice with different addresses`);
      return;
    }
    if (taken.has(t.name)) {
      problems.push(`${where}: name: "${t.name}" is already a target of this rollout`);
      return;
    }
    seen.add(t.name);
    targets.push({ name: t.name, host: t.host, port: t.port, ...(t.variables ? { variables: t.variables } : {}) });
  });
  if (targets.length > MAX_NEW_TARGETS)
    problems.push(`provision printed ${targets.length} targets (at most ${MAX_NEW_TARGETS})`);
  return { targets, problems };
}

/** The environment of a hook: the usual ROLLOUT_* variables, the half and its targets. */
export function hookEnvironment(input: WorkerHookInput): Record<string, string> {
  const env: Record<string, string> = {
    ROLLOUT_RELEASE: input.release,
    ROLLOUT_DEPLOYABLE: input.deployable,
    ROLLOUT_REQUESTED_BY: input.requestedBy,
    ROLLOUT_STEP: input.stepName,
    ROLLOUT_HOOK: input.hook,
    ROLLOUT_HALF: input.half,
    // Space-separated names, and host:port in the same order.
    ROLLOUT_TARGETS: input.targets.map((t) => t.name).join(' '),
    ROLLOUT_TARGET_HOSTS: input.targets.map((t) => `${t.host}:${t.port}`).join(' '),
    // Everything about them, variables included (e.g. the address the load balancer sends traffic to).
    ROLLOUT_TARGETS_JSON: JSON.stringify(input.targets),
  };
  for (const [k, v] of Object.entries(input.variables)) env[envName('ROLLOUT_VAR', k)] = v;
  return env;
}

export interface DoubleHalfActivityDeps {
  transports: Partial<Record<'ssh' | 'local', Transport>>;
}

export function createDoubleHalfActivities(deps: DoubleHalfActivityDeps) {
  return {
    async runWorkerHook(input: WorkerHookInput): Promise<WorkerHookOutput> {
      const transport = deps.transports.local;
      if (!transport) {
        throw ApplicationFailure.nonRetryable(
          'no local transport on this worker: double-half hooks run on the worker host',
          'no-transport',
        );
      }
      const info = Context.current().info;
      const runId = `dh-${input.hook}-${createHash('sha256')
        .update(JSON.stringify([info.workflowExecution?.workflowId ?? '', info.activityId, input.stepName, input.hook]))
        .digest('hex')
        .slice(0, 20)}`;
      const lines: string[] = [];
      const beat = setInterval(() => Context.current().heartbeat(), 5000);
      try {
        const res = await transport.run({
          target: {
            name: `${input.stepName}.${input.hook}`,
            transport: 'local',
            host: '',
            port: 0,
            user: '',
            tags: [],
            workdir: input.hookWorkdir,
            strictHostKeyChecking: true,
            variables: {},
          },
          script: input.spec.script,
          env: hookEnvironment(input),
          timeoutMs: input.spec.timeoutSec * 1000,
          runId,
          // A worker shutdown (or any activity cancellation) stops following WITHOUT killing the hook: the retry
          // re-attaches to the same run. The workflow never cancels a hook (the step runs non-cancellable).
          detachSignal: Context.current().cancellationSignal,
          onLine: (line, stream) => {
            if (stream === 'stdout' && line.startsWith(PROVISION_LINE_PREFIX)) lines.push(line);
            else if (stream === 'stdout') lines.push('');
          },
        });
        const tail = joinTail(res.stdoutTail, res.stderrTail, TAIL_LIMITS.history);
        const ok = res.exitCode === 0 && !res.timedOut && !res.aborted;
        const failed = ok
          ? undefined
          : res.timedOut
            ? `timed out after ${input.spec.timeoutSec}s`
            : `exited with ${res.exitCode ?? res.outcome}`;
        if (input.hook !== 'provision') return { exitCode: res.exitCode, tail, ...(failed ? { error: failed } : {}) };
        const { targets, problems } = parseProvisionLines(lines, input.takenNames);
        const refused =
          problems.length > 0
            ? `output refused: ${keepTail(problems.slice(0, 10).join('; '), 1500)}${problems.length > 10 ? ` (and ${problems.length - 10} more)` : ''}`
            : ok && targets.length === 0
              ? `printed no targets (one line per new target: ${PROVISION_LINE_PREFIX}{"name":…,"host":…,"port":…}])`
              : undefined;
        const error = [failed, refused].filter(Boolean).join('; ');
        return { exitCode: res.exitCode, tail, targets, ...(error ? { error } : {}) };
      } catch (e) {
        if (e instanceof TransportError && !e.retryable)
          throw ApplicationFailure.nonRetryable(`${input.hook}: ${e.message}`, e.kind);
        throw e;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
