// The script activity: substitutes variables, runs the script on one target through its transport, heartbeats.
//
// Run once (issue 9). Every attempt of a child step has a stable run id (runIdFor); the script of a run id is started
// at most once on the target, and any retry of the activity (a new worker after a crash or a shutdown, a retry after
// a Temporal or network outage) re-attaches to it instead of running it again. While a run is followed the activity
// heartbeats `RunBeat` details (the run id, whether it exists, when the target was last heard from), so a later
// attempt knows what an earlier one saw. When the target stays unreachable past the lost-contact bound the activity
// RETURNS an "outcome unknown" result (a human decides; nothing re-runs by itself); a connect failure before the run
// could ever have started returns "not started" after a few tries. On worker shutdown the activity stops following
// without touching the script and fails retryably, so the next worker re-attaches.
import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { ApplicationFailureCategory } from '@temporalio/common';
import type { ScriptAction, TargetPlan, TransportKind } from '../domain/plan';
import { scriptEnvironment, substitute, SubstitutionError, type VariableContext } from '../domain/variables';
import { Masker, parseMaskLine } from '../domain/masking';
import { keepTail, TAIL_LIMITS } from '../domain/text';
import { childFailureOf, childResultOf, runChainSteps, type ChainInput, type ChainResult } from '../domain/chain';
import { NOT_RUN_FAILURE_TYPES } from '../domain/outcomes';
import { resolveSecrets, type SecretSource } from './secrets';
import { prepareArtifact, type PreparedArtifact } from './artifacts';
import { DetachedError, TAIL_LIMIT, TransportError, type ScriptResult, type Transport } from './transports/types';

export interface RunScriptInput {
  rolloutId: string;
  stepName: string;
  child: ScriptAction;
  target: TargetPlan;
  release: string;
  deployable: string;
  requestedBy: string;
  /** Rollout/deployable variables; the target's own variables are merged over them. */
  variables: Record<string, string>;
  /** This machine's outputs so far: step name → name → value. */
  outputs: Record<string, Record<string, string>>;
  /** Index of the child step in its step (part of the run id; absent in activities scheduled before run-once). */
  childIndex?: number;
  /** The chain's attempt number (a human's Retry makes a new one; part of the run id). */
  attempt?: number;
  /** Re-attach to this run first (Retry on an "outcome unknown" card): if it is still on the target, it counts. */
  reattachRunId?: string;
  /** Runs of this chain whose outcomes the workflow has recorded: removed from the target before this run starts. */
  cleanupRunIds?: string[];
}

export interface RunScriptOutput {
  exitCode: number | null;
  timedOut: boolean;
  tail: string;
  outputs: Record<string, string>;
  startedAt: string;
  endedAt: string;
  /** Set when the script could not run at all (bad substitution), or did not end by itself (see outcome). */
  error?: string;
  /** The run on the target whose outcome this is (or, for an unknown outcome, the run in question). */
  runId?: string;
  /**
   * unknown: contact with the target was lost while the script ran (or may have run) and not regained within the
   * bound; not-started: the script never started (could not connect, or its start was interrupted): nothing ran.
   */
  outcome?: 'unknown' | 'not-started';
  /** When the target was last heard from (ISO), with outcome unknown. */
  lostContactAt?: string;
  /** The outcome was read from a run started earlier (by another attempt or worker). */
  reattached?: boolean;
}

/** What the activity heartbeats; a later attempt of the same activity reads it back (info.heartbeatDetails). */
export interface RunBeat {
  runId: string;
  /** The run exists on the target (this or an earlier attempt started or found it). */
  claimed: boolean;
  /** Epoch ms the target was last heard from. */
  lastContactAt?: number;
  /** Epoch ms of the first try to reach the target (the bound counts from here until first contact). */
  firstTryAt: number;
  /** The reattach run was looked up and is gone. */
  reattachDone: boolean;
  lastLine?: string;
}

export const HEARTBEAT_INTERVAL_MS = 5_000;
/** Default bound: a target unreachable for this long while a script's outcome is unknown → a human decides. */
export const DEFAULT_LOST_CONTACT_BOUND_MS = 5 * 60_000;

export interface RunSettings {
  /** How long a target may stay unreachable while a run's outcome is unknown (default 5 minutes). */
  lostContactBoundMs?: number;
  /** Tries to reach a target before reporting "could not connect, nothing ran" (default 3). */
  connectAttempts?: number;
  /** First pause between tries (default 2 s; doubles up to 15 s). */
  retryDelayMs?: number;
  /**
   * CONTROL FOR TESTS ONLY, never in production: every try and every activity attempt starts a NEW run (a fresh run
   * id each time, no re-attach), which is how scripts ran before run-once. The fault tests use it to show that
   * their "exactly once" counts can see a second run.
   */
  rerunOnRetry?: boolean;
}

export function joinTail(stdout: string, stderr: string, limit: number = TAIL_LIMITS.history): string {
  const both = stderr.trim() ? `${stdout}${stdout.endsWith('\n') || !stdout ? '' : '\n'}[stderr]\n${stderr}` : stdout;
  return keepTail(both, limit);
}

export interface ScriptActivityDeps {
  transports: Partial<Record<TransportKind, Transport>>;
  /** Aborted when the worker shuts down: running scripts are handed back (they keep running on their targets). */
  shutdownSignal?: AbortSignal;
  runs?: RunSettings;
  /** Where secret references (TargetPlan.secrets) are resolved; a rollout using secrets fails without one. */
  secretSource?: SecretSource;
}

/**
 * The run id of one attempt of one child step on one target: a readable prefix and a hash of the rollout, step,
 * target, child step, attempt and the activity's place in its chain workflow (stable across retries of the activity,
 * different for every human Retry). A safe file name.
 */
export function runIdFor(input: RunScriptInput, where: { workflowId: string; activityId: string }): string {
  const hash = createHash('sha256')
    .update(
      JSON.stringify([
        input.rolloutId,
        input.stepName,
        input.target.name,
        input.child.name,
        input.childIndex ?? null,
        input.attempt ?? null,
        where.workflowId,
        where.activityId,
      ]),
    )
    .digest('hex')
    .slice(0, 20);
  const slug = `${input.target.name}-${input.child.name}`.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 60);
  return `${slug}-a${input.attempt ?? 0}-${hash}`;
}

function readBeat(details: unknown, runId: string): RunBeat | undefined {
  if (!details || typeof details !== 'object') return undefined;
  const d = details as Partial<RunBeat>;
  if (d.runId !== runId || typeof d.firstTryAt !== 'number') return undefined;
  return {
    runId,
    claimed: d.claimed === true,
    ...(typeof d.lastContactAt === 'number' ? { lastContactAt: d.lastContactAt } : {}),
    firstTryAt: d.firstTryAt,
    reattachDone: d.reattachDone === true,
  };
}

/** A script (or artifact) whose variables cannot be substituted never runs: that is its result, not a crash. */
function notRunnable(e: unknown, startedAt: string): RunScriptOutput {
  if (!(e instanceof SubstitutionError)) throw e;
  return { exitCode: null, timedOut: false, tail: '', outputs: {}, startedAt, endedAt: startedAt, error: e.message };
}

const clock = (ms: number): string => `${new Date(ms).toISOString().slice(11, 19)} UTC`;

function pause(ms: number, signals: AbortSignal[]): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      clearTimeout(t);
      for (const s of signals) s.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    for (const s of signals) s.addEventListener('abort', done, { once: true });
  });
}

type Followed =
  | { kind: 'done'; res: ScriptResult }
  | { kind: 'unreachable'; lastContactAt: number; error: TransportError }
  | { kind: 'not-started'; error: TransportError }
  | { kind: 'cancelled-unreachable'; error: TransportError };

export function createScriptActivities(deps: ScriptActivityDeps) {
  const bound = deps.runs?.lostContactBoundMs ?? DEFAULT_LOST_CONTACT_BOUND_MS;
  const connectAttempts = Math.max(1, deps.runs?.connectAttempts ?? 3);
  const retryDelayMs = deps.runs?.retryDelayMs ?? 2000;
  /** `place`: this run's place inside its activity (a chain's child index), part of the run id. */
  const runOnce = async (
    input: RunScriptInput,
    secretValues: Record<string, string>,
    masker: Masker,
    place?: string,
  ): Promise<RunScriptOutput> => {
    const startedAt = new Date().toISOString();
    const ctx: VariableContext = {
      release: input.release,
      deployable: input.deployable,
      requestedBy: input.requestedBy,
      stepName: input.child.name,
      machineName: input.target.name,
      // Secrets (resolved on this worker, never in history) over the target's own over the rollout's variables.
      variables: { ...input.variables, ...input.target.variables, ...secretValues },
      outputs: input.outputs,
    };
    let script: string;
    try {
      script = substitute(input.child.script, ctx);
    } catch (e) {
      return notRunnable(e, startedAt);
    }
    const transport = deps.transports[input.target.transport];
    if (!transport) {
      throw ApplicationFailure.nonRetryable(`no ${input.target.transport} transport on this worker`, 'no-transport');
    }
    const activity = Context.current();
    const info = activity.info;
    const runId = runIdFor(input, {
      workflowId: info.workflowExecution?.workflowId ?? '',
      activityId: place === undefined ? info.activityId : `${info.activityId}/${place}`,
    });
    const prev = readBeat(info.heartbeatDetails, runId);
    const state: RunBeat = prev ?? { runId, claimed: false, firstTryAt: Date.now(), reattachDone: false };
    let lastLine = '';
    const beat = (): void => activity.heartbeat({ ...state, lastLine: lastLine.slice(0, 200) });
    const beatTimer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
    beat();

    // Only a real cancel request (the workflow cancels the activity) kills the script. Every other reason the SDK
    // gives (worker shutdown, timeout, activity not found, reset, pause) and the worker's own shutdown signal only
    // stop following: the script keeps running and the next attempt re-attaches.
    const kill = new AbortController();
    const detach = new AbortController();
    const onCancel = (): void => {
      const details = activity.cancellationDetails;
      const reason = (activity.cancellationSignal.reason as { message?: string } | undefined)?.message;
      if (details ? details.cancelRequested : reason === 'CANCELLED') kill.abort();
      else detach.abort();
    };
    const onShutdown = (): void => detach.abort();
    if (activity.cancellationSignal.aborted) onCancel();
    else activity.cancellationSignal.addEventListener('abort', onCancel, { once: true });
    if (deps.shutdownSignal?.aborted) onShutdown();
    else deps.shutdownSignal?.addEventListener('abort', onShutdown, { once: true });

    const who = input.target.name;
    // Benign: an expected hand-back, not an error (the SDK logs it at debug level).
    const handBack = (): ApplicationFailure =>
      ApplicationFailure.create({
        message: `${who}: the worker stopped following \`${input.child.name}\` (shutting down); the script keeps running on the target and the next worker re-attaches`,
        type: 'worker-shutdown',
        nonRetryable: false,
        category: ApplicationFailureCategory.BENIGN,
      });

    const follow = async (baseId: string, attachOnly: boolean): Promise<Followed> => {
      let commandSent = false;
      for (let tries = 0; ; tries++) {
        if (detach.signal.aborted) throw handBack();
        const id = deps.runs?.rerunOnRetry ? `${baseId}-c${info.attempt}-${tries}` : baseId;
        try {
          const res = await transport.run({
            target: input.target,
            script,
            env: scriptEnvironment(ctx),
            timeoutMs: input.child.timeoutSec * 1000,
            signal: kill.signal,
            detachSignal: detach.signal,
            runId: id,
            attachOnly,
            ...(input.cleanupRunIds?.length ? { cleanupRunIds: input.cleanupRunIds } : {}),
            onLine: (line) => {
              // A line that marks a value for masking is itself masked (it holds the value).
              const marked = parseMaskLine(line);
              if (marked !== undefined) masker.add(marked);
              lastLine = masker.mask(line);
            },
            onContact: () => {
              state.lastContactAt = Date.now();
            },
            onClaim: () => {
              if (!attachOnly) state.claimed = true;
              beat();
            },
          });
          return { kind: 'done', res };
        } catch (e) {
          if (e instanceof DetachedError) throw handBack();
          // Could a script have started? This attempt sent the command, or the run was seen, or an earlier attempt
          // (whose record may not have reached Temporal) may have started it.
          const seen = attachOnly || state.claimed || info.attempt > 1 || prev !== undefined;
          if (!(e instanceof TransportError)) {
            // Not a transport problem (e.g. an env variable name the shell cannot take): with nothing started it
            // will not get better by retrying; otherwise the retry re-attaches.
            if (!seen && !commandSent)
              throw ApplicationFailure.nonRetryable(`${who}: ${(e as Error).message}`, 'script-setup');
            throw e;
          }
          if (e.phase !== 'connect') commandSent = true;
          const mayHaveStarted = seen || commandSent;
          if (!e.retryable) {
            if (!mayHaveStarted) throw ApplicationFailure.nonRetryable(`${who}: ${e.message}`, e.kind);
            return { kind: 'unreachable', lastContactAt: state.lastContactAt ?? state.firstTryAt, error: e };
          }
          if (kill.signal.aborted) return { kind: 'cancelled-unreachable', error: e };
          if (!mayHaveStarted) {
            if (tries + 1 >= connectAttempts) return { kind: 'not-started', error: e };
          } else {
            const last = state.lastContactAt ?? state.firstTryAt;
            if (Date.now() - last >= bound) return { kind: 'unreachable', lastContactAt: last, error: e };
          }
          beat();
          await pause(Math.min(15_000, retryDelayMs * 2 ** Math.min(tries, 4)), [detach.signal, kill.signal]);
        }
      }
    };

    const fromResult = (res: ScriptResult, reattached: boolean): RunScriptOutput => {
      const base = {
        // Masked per stream BEFORE they are joined and cut again (a stream cut at its start may begin inside a value).
        tail: joinTail(
          masker.mask(res.stdoutTail.slice(-TAIL_LIMIT), { cutStart: res.stdoutTail.length >= TAIL_LIMIT }),
          masker.mask(res.stderrTail.slice(-TAIL_LIMIT), { cutStart: res.stderrTail.length >= TAIL_LIMIT }),
        ),
        outputs: masker.maskRecord(res.outputs),
        startedAt: res.startedAtMs !== undefined ? new Date(res.startedAtMs).toISOString() : startedAt,
        endedAt: res.endedAtMs !== undefined ? new Date(res.endedAtMs).toISOString() : new Date().toISOString(),
        runId: res.runId,
        ...(reattached || res.attached ? { reattached: true } : {}),
      };
      switch (res.outcome) {
        case 'lost':
          return {
            ...base,
            exitCode: null,
            timedOut: false,
            outcome: 'unknown',
            lostContactAt: new Date().toISOString(),
            error: `outcome unknown: the run of \`${input.child.name}\` on ${who} lost its supervisor without recording an outcome (target rebooted, or its processes killed?) (run ${res.runId})`,
          };
        case 'unlaunched':
          return {
            ...base,
            exitCode: null,
            timedOut: false,
            outcome: 'not-started',
            error: `not started: the start of \`${input.child.name}\` on ${who} was interrupted before the script ran; nothing ran (run ${res.runId})`,
          };
        default:
          return {
            ...base,
            exitCode: res.exitCode,
            timedOut: res.timedOut,
            ...(res.timedOut ? { error: `timed out after ${input.child.timeoutSec}s (process group killed)` } : {}),
            ...(res.aborted ? { error: 'cancelled (process group killed)' } : {}),
          };
      }
    };
    const unknown = (id: string, lastContactAt: number, err: TransportError): RunScriptOutput => ({
      exitCode: null,
      timedOut: false,
      tail: '',
      outputs: {},
      startedAt,
      endedAt: new Date().toISOString(),
      runId: id,
      outcome: 'unknown',
      lostContactAt: new Date(lastContactAt).toISOString(),
      error:
        `outcome unknown: lost contact with ${who} at ${clock(lastContactAt)} while \`${input.child.name}\` was running ` +
        `(run ${id}; unreachable for over ${Math.round(bound / 1000)} s: ${err.kind}: ${err.message}). ` +
        'Retry re-attaches to that run first and runs the script again only if it is gone.',
    });
    const notStarted = (id: string, err: TransportError): RunScriptOutput => ({
      exitCode: null,
      timedOut: false,
      tail: '',
      outputs: {},
      startedAt,
      endedAt: new Date().toISOString(),
      runId: id,
      outcome: 'not-started',
      error: `could not connect to ${who}, nothing ran: ${err.kind}: ${err.message}`,
    });
    const settle = (id: string, f: Followed, reattached: boolean): RunScriptOutput => {
      switch (f.kind) {
        case 'done':
          return fromResult(f.res, reattached);
        case 'unreachable':
          return unknown(id, f.lastContactAt, f.error);
        case 'not-started':
          return notStarted(id, f.error);
        default:
          return {
            ...unknown(id, state.lastContactAt ?? state.firstTryAt, f.error),
            error: `cancelled while ${who} was unreachable: \`${input.child.name}\` may still be running there (run ${id})`,
          };
      }
    };

    try {
      if (input.child.artifact) {
        // An artifact child step: upload (idempotent, under a temporary name), then the verify-rename-prune
        // script runs as the run. Once the run is claimed it is never uploaded again (the run re-attaches).
        let art: PreparedArtifact;
        try {
          art = await prepareArtifact(input.child.artifact, ctx);
        } catch (e) {
          return notRunnable(e, startedAt);
        }
        script = art.script;
        if (!state.claimed && !input.reattachRunId) {
          if (!transport.putFile) {
            throw ApplicationFailure.nonRetryable(
              `${who}: the ${input.target.transport} transport cannot copy files`,
              'no-transport',
            );
          }
          for (let tries = 0; ; tries++) {
            try {
              await transport.putFile(input.target, art.source, art.incoming);
              break;
            } catch (e) {
              const err =
                e instanceof TransportError ? e : new TransportError('unreachable', (e as Error).message, true);
              if (!err.retryable || tries + 1 >= connectAttempts) return notStarted(runId, err);
              await pause(Math.min(15_000, retryDelayMs * 2 ** Math.min(tries, 4)), [detach.signal, kill.signal]);
            }
          }
        }
      }
      if (input.reattachRunId && !state.reattachDone && !deps.runs?.rerunOnRetry) {
        const first = await follow(input.reattachRunId, true);
        const gone = first.kind === 'done' && (first.res.outcome === 'gone' || first.res.outcome === 'unlaunched');
        if (!gone) return settle(input.reattachRunId, first, true);
        // The original is not there (or never ran): this attempt starts the script under its own run id.
        state.reattachDone = true;
        beat();
      }
      return settle(runId, await follow(runId, false), false);
    } finally {
      clearInterval(beatTimer);
      activity.cancellationSignal.removeEventListener('abort', onCancel);
      deps.shutdownSignal?.removeEventListener('abort', onShutdown);
    }
  };
  return {
    /**
     * One target's whole chain of child steps in one activity (rollouts started since `inline-chain`): the chain
     * rules of domain/chain.ts, each child step run as runScript runs one. Run once holds per child step: child k's
     * run id is fixed by this activity and k, so a retry of the activity (worker crash, shutdown, outage) walks the
     * chain again and re-attaches to every run already on the target, reading its recorded outcome and outputs,
     * instead of running it again. Runs of this activity are never cleaned up by it (the workflow has not recorded
     * their outcomes until it returns): the retention sweep removes them.
     */
    async runChain(input: ChainInput): Promise<ChainResult> {
      // Resolved at the first child step that runs, once: a reference that cannot be resolved is that child step's
      // failure (nothing ran), as it is for runScript.
      let secrets: { values: Record<string, string>; masker: Masker } | undefined;
      let masker = new Masker([]);
      let cleanup = input.cleanupRunIds ?? [];
      return runChainSteps(input, true, async (child, index, { outputs, reattachRunId }) => {
        const script: RunScriptInput = {
          rolloutId: input.rolloutId,
          stepName: input.stepName,
          child,
          target: input.target,
          release: input.release,
          deployable: input.deployable,
          requestedBy: input.requestedBy,
          variables: input.variables,
          outputs,
          childIndex: index,
          attempt: input.attempt,
          ...(reattachRunId ? { reattachRunId } : {}),
          // Only the previous chain's runs (recorded by the workflow): this chain's own are not recorded until it
          // returns, and a retry of this activity must find them to re-attach.
          ...(cleanup.length > 0 ? { cleanupRunIds: cleanup } : {}),
        };
        cleanup = [];
        try {
          if (!secrets) {
            const { values, sensitive } = await resolveSecrets(
              input.target.secrets,
              deps.secretSource,
              input.target.name,
            );
            secrets = { values, masker: new Masker(sensitive) };
            masker = secrets.masker;
          }
          const out = maskRunOutput(await runOnce(script, secrets.values, masker, String(index)), masker);
          return { result: childResultOf(child.name, input.attempt, out), outputs: out.outputs };
        } catch (e) {
          // A failure for good (nothing to re-attach to: e.g. a refused connection before anything started) is this
          // child step's result, as the chain workflow records it; anything retryable fails the activity, and its
          // retry re-attaches.
          if (!(e instanceof ApplicationFailure) || !e.nonRetryable) throw maskError(e, masker);
          const masked = maskError(e, masker) as ApplicationFailure;
          const type = masked.type ?? undefined;
          return {
            result: childFailureOf(
              child.name,
              input.attempt,
              type ? `${type}: ${masked.message}` : masked.message,
              type !== undefined && NOT_RUN_FAILURE_TYPES.has(type),
            ),
            outputs: {},
          };
        }
      });
    },
    async runScript(input: RunScriptInput): Promise<RunScriptOutput> {
      // Secret references are resolved here, on the worker; their values go into the script and its environment
      // and are masked (with every value the script marks) in everything this activity returns or throws.
      const { values, sensitive } = await resolveSecrets(input.target.secrets, deps.secretSource, input.target.name);
      const masker = new Masker(sensitive);
      try {
        return maskRunOutput(await runOnce(input, values, masker), masker);
      } catch (e) {
        throw maskError(e, masker);
      }
    },
  };
}

/** The output with every masked value replaced by `***` (tails, output variables, error). */
export function maskRunOutput(out: RunScriptOutput, masker: Masker): RunScriptOutput {
  if (masker.size === 0) return out;
  return {
    ...out,
    tail: masker.mask(out.tail, { cutStart: out.tail.startsWith('…') }),
    outputs: masker.maskRecord(out.outputs),
    ...(out.error !== undefined ? { error: masker.mask(out.error) } : {}),
  };
}

/** The same error with masked values replaced (ApplicationFailure keeps its type and retry policy). */
export function maskError(e: unknown, masker: Masker): unknown {
  if (masker.size === 0 || !(e instanceof Error)) return e;
  if (e instanceof ApplicationFailure) {
    const message = masker.mask(e.message);
    if (message === e.message && !e.details?.length) return e;
    return ApplicationFailure.create({
      message,
      ...(e.type ? { type: e.type } : {}),
      nonRetryable: e.nonRetryable === true,
      ...(e.category ? { category: e.category } : {}),
    });
  }
  e.message = masker.mask(e.message);
  if (e.stack) e.stack = masker.mask(e.stack);
  return e;
}
