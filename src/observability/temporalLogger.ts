// Temporal's Logger interface (what `Runtime.install({ logger })` takes) over pino. Through it go the SDK's own
// messages (worker lifecycle, Core's forwarded logs) and everything workflow and activity code logs with
// `log` from @temporalio/workflow or @temporalio/activity. A line from a rollout's workflow, its target chains or
// their activities carries `rolloutId`, read from the workflow id the SDK attaches.
import type { LogLevel as SdkLevel, LogMetadata, Logger as SdkLogger } from '@temporalio/common';
import type { Logger } from './logger';

const PINO_LEVEL = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' } as const;
const ORDER: readonly SdkLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];

/** Workflow types whose workflow id is, or starts with, the rollout id (`<rolloutId>/<step>/<target>/<run>`). */
const ROLLOUT_WORKFLOW_TYPES = new Set(['rolloutWorkflow', 'targetChainWorkflow']);

/** The rollout a line is about, from the SDK's metadata (or an explicit `rolloutId` field). */
export function rolloutIdOfMeta(meta: LogMetadata): string | undefined {
  if (typeof meta.rolloutId === 'string') return meta.rolloutId;
  const { workflowId, workflowType } = meta;
  if (typeof workflowId !== 'string' || !ROLLOUT_WORKFLOW_TYPES.has(String(workflowType))) return undefined;
  return workflowId.split('/')[0];
}

/** Plain fields for pino: string keys only (the SDK adds a symbol-keyed bigint timestamp), `err` for an error. */
function fieldsOf(meta: LogMetadata): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'bigint') fields[k] = v.toString();
    else if (k === 'error' && v instanceof Error) fields.err = v;
    else fields[k] = v;
  }
  // The task token is an opaque credential-like blob: no use in a log line.
  delete fields.taskToken;
  const rolloutId = rolloutIdOfMeta(meta);
  if (rolloutId !== undefined) fields.rolloutId = rolloutId;
  return fields;
}

export class PinoTemporalLogger implements SdkLogger {
  /**
   * `sdkLevel` filters the SDK's own messages (worker and Core: chatty at INFO, one line per state change);
   * what workflow and activity code logs is filtered by the pino logger's level alone.
   */
  constructor(
    private readonly logger: Logger,
    private readonly sdkLevel: SdkLevel = 'WARN',
  ) {}

  log(level: SdkLevel, message: string, meta: LogMetadata = {}): void {
    const fromCode = meta.sdkComponent === 'workflow' || meta.sdkComponent === 'activity';
    if (!fromCode && ORDER.indexOf(level) < ORDER.indexOf(this.sdkLevel)) return;
    this.logger[PINO_LEVEL[level] ?? 'info'](fieldsOf(meta), message);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}
