import { LogLevel, type Logger } from '@slack/bolt';

/** A Logger that keeps lines in memory instead of printing them (assert on `lines` when it matters). */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  let level = LogLevel.DEBUG;
  const log =
    (l: string) =>
    (...msg: unknown[]) => {
      lines.push(`${l} ${msg.map(String).join(' ')}`);
    };
  return {
    lines,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
