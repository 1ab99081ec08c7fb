// Slack's Logger interface (Bolt, the Web API client, Socket Mode) over pino, so the bot's lines are the same
// JSON as everything else. A call whose first argument is a plain object logs it as fields:
// `logger.info({ rolloutId }, 'decision delivered')` puts `rolloutId` on the line. The level is LOG_LEVEL's:
// Bolt's own setLevel (it sets INFO at start) and setName are ignored.
import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from './logger';

const SLACK_LEVEL: Record<string, LogLevel> = {
  trace: LogLevel.DEBUG,
  debug: LogLevel.DEBUG,
  info: LogLevel.INFO,
  warn: LogLevel.WARN,
  error: LogLevel.ERROR,
  fatal: LogLevel.ERROR,
  silent: LogLevel.ERROR,
};

const isFields = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Error);

const text = (v: unknown): string =>
  typeof v === 'string' ? v : v instanceof Error ? (v.stack ?? v.message) : JSON.stringify(v);

export function slackLogger(log: Logger): SlackLogger {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (...msg: unknown[]): void => {
      const [first, ...rest] = msg;
      if (isFields(first)) return log[level](first, rest.map(text).join(' '));
      const err = msg.find((m): m is Error => m instanceof Error);
      const line = msg
        .filter((m) => m !== err)
        .map(text)
        .join(' ');
      if (err) log[level]({ err }, line || err.message);
      else log[level](line);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    setLevel: () => undefined,
    getLevel: () => SLACK_LEVEL[log.level] ?? LogLevel.INFO,
    // One logger object is shared by Bolt and the Web API clients: a name set by one would rename them all.
    setName: () => undefined,
  };
}
