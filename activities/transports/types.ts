import { TAIL_LIMITS } from '../../domain/text';
import type { TargetPlan } from '../../domain/plan';

/** What one script run on one target needs. The script text is final (variables already substituted). */
export interface ScriptRequest {
  target: TargetPlan;
  script: string;
  /** Exported into the script's environment (values are shell-quoted by the transport). */
  env: Record<string, string>;
  /** Enforced on the target (the worker may be gone); <= 0 or non-finite: no timeout. */
  timeoutMs: number;
  /** Aborting kills the script's whole process group on the target. */
  signal?: AbortSignal;
  /** Called for every complete output line (stdout and stderr), e.g. to heartbeat. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  /**
   * A durable run id (a safe file name, see runDir in remoteCommand.ts). The run is started only if the target has
   * no run of that id yet; otherwise this call attaches to the existing run (still running: waits for it; finished:
   * reads its recorded outcome). Its files stay on the target until removed by housekeeping. Default: a fresh id
   * whose files are removed as soon as the outcome has been read.
   */
  runId?: string;
  /** Attach to runId only, never start it: outcome 'gone' when the target has no such run. */
  attachOnly?: boolean;
  /** Finished runs (ids) whose outcomes are recorded: removed from the target before this run starts. */
  cleanupRunIds?: string[];
  /**
   * Aborting stops following the run WITHOUT touching it (worker shutdown): the call rejects with DetachedError and
   * the script keeps running on the target; attach again later with the same runId.
   */
  detachSignal?: AbortSignal;
  /** Called every time the target is heard from while the run is followed (at least once per poll interval). */
  onContact?: () => void;
  /** Called once the run exists on the target: 'started' (this call started it) or 'attached' (it existed). */
  onClaim?: (how: 'started' | 'attached') => void;
}

/**
 * How a run ended, as recorded on the target:
 * - exited: the script ran and exited (exitCode);
 * - timeout: killed on the target at its timeout;
 * - cancelled: killed (or never started) because the run was cancelled;
 * - lost: the run's supervisor on the target vanished without recording an outcome (reboot, OOM kill): unknown;
 * - unlaunched: the run was claimed but its start was interrupted before the script could start: nothing ran;
 * - gone: (attachOnly) the target has no run of that id.
 */
export type RunOutcome = 'exited' | 'timeout' | 'cancelled' | 'lost' | 'unlaunched' | 'gone';

export interface ScriptResult {
  /** null when the script did not exit by itself (timeout, cancel, lost, ...). */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** Bounded tails of each stream (last TAIL_LIMIT characters). */
  stdoutTail: string;
  stderrTail: string;
  /** Output variables the script set (see activities/outputVariables.ts). */
  outputs: Record<string, string>;
  durationMs: number;
  /** The run's id on the target ('' when nothing was sent to the target). */
  runId: string;
  outcome: RunOutcome;
  /** True when this call attached to a run that already existed (it did not start it). */
  attached: boolean;
  /** When the script started and ended, by the target's clock (epoch ms), when known. */
  startedAtMs?: number;
  endedAtMs?: number;
}

export const TAIL_LIMIT = TAIL_LIMITS.activity;

export type TransportErrorKind =
  | 'connection-refused'
  | 'auth-failed'
  | 'host-key-mismatch'
  | 'host-key-unknown'
  | 'connect-timeout'
  | 'unreachable'
  | 'key-missing'
  | 'other';

/**
 * Where a transport failure happened: 'connect' when this call certainly started nothing (the command did not reach
 * the target, or the target said it could not set the run up), 'start' after the command was sent but before the
 * target said whether the run exists (it may have been started), 'follow' while following a run that exists on the
 * target (it keeps running).
 */
export type TransportPhase = 'connect' | 'start' | 'follow';

/** A failure to reach or talk to a target (as opposed to a script that ran and failed). */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    readonly retryable: boolean,
    readonly phase: TransportPhase = 'connect',
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** The caller stopped following a run (detachSignal): the run itself is untouched and keeps going on the target. */
export class DetachedError extends Error {
  constructor(
    message: string,
    readonly runId: string,
  ) {
    super(message);
    this.name = 'DetachedError';
  }
}

export interface Transport {
  run(req: ScriptRequest): Promise<ScriptResult>;
  /**
   * Copies a worker file to `remotePath` (relative to the target's workdir), creating its directory; overwrites.
   * Over SSH this is SFTP. Idempotent: the same content under the same name again is harmless.
   */
  putFile?(target: TargetPlan, localPath: string, remotePath: string): Promise<void>;
  /** Close any cached connection(s). */
  close(): Promise<void>;
}
