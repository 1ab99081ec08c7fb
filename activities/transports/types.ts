import { TAIL_LIMITS } from '../../domain/text';
import type { TargetPlan } from '../../domain/plan';

/** What one script run on one target needs. The script text is final (variables already substituted). */
export interface ScriptRequest {
  target: TargetPlan;
  script: string;
  /** Exported into the script's environment (values are shell-quoted by the transport). */
  env: Record<string, string>;
  timeoutMs: number;
  /** Aborting kills the script's whole process group on the target. */
  signal?: AbortSignal;
  /** Called for every complete output line (stdout and stderr), e.g. to heartbeat. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export interface ScriptResult {
  /** null when the script was killed (timeout or abort). */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** Bounded tails of each stream (last TAIL_LIMIT characters). */
  stdoutTail: string;
  stderrTail: string;
  /** Output variables the script set (see activities/outputVariables.ts). */
  outputs: Record<string, string>;
  durationMs: number;
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

/** A failure to reach or talk to a target (as opposed to a script that ran and failed). */
export class TransportError extends Error {
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

export interface Transport {
  run(req: ScriptRequest): Promise<ScriptResult>;
  /** Close any cached connection(s). */
  close(): Promise<void>;
}
