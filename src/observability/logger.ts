// The one structured logger of every rollout process (bot, worker, dev stack): pino, JSON lines on stdout, or
// pino-pretty's human-readable lines when stdout is a terminal. Everything that logs takes a child of it, so a
// line about a rollout carries `rolloutId` as a field (never only inside the message text).
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { LOG_LEVELS } from '../env';

export type { Logger } from 'pino';

export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  level: LogLevelName;
  /** Default: pretty when `destination` (stdout) is a terminal, JSON otherwise. */
  format?: LogFormat;
  /** Default process.stdout. */
  destination?: NodeJS.WritableStream;
  /** The process's role, on every line (`service`): `worker`, `bot`, `dev`. */
  service: string;
}

export function createLogger(o: LoggerOptions): Logger {
  const destination = o.destination ?? process.stdout;
  const format = o.format ?? ((destination as { isTTY?: boolean }).isTTY ? 'pretty' : 'json');
  const stream: DestinationStream =
    format === 'pretty'
      ? // Synchronous, in this thread: a line is out before the process exits (no transport worker to flush).
        pretty({ destination, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' })
      : (destination as DestinationStream);
  return pino(
    {
      level: o.level,
      base: { service: o.service },
      // Level names rather than numbers, ISO times: readable by any log pipeline without pino's conventions.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    stream,
  );
}

/** The logger of a process, from its environment (LOG_LEVEL, ROLLOUT_LOG_FORMAT). */
export function processLogger(
  env: { LOG_LEVEL: LogLevelName; ROLLOUT_LOG_FORMAT?: LogFormat | undefined },
  service: string,
  destination?: NodeJS.WritableStream,
): Logger {
  return createLogger({
    level: env.LOG_LEVEL,
    service,
    ...(env.ROLLOUT_LOG_FORMAT ? { format: env.ROLLOUT_LOG_FORMAT } : {}),
    ...(destination ? { destination } : {}),
  });
}

/** A logger that drops everything (library callers and tests that do not care). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
