// Flags every benchmark takes: `--runs N` (repetitions, medians over them; default 3) plus its own.
import { parseArgs } from 'node:util';

export function benchArgs<T extends Record<string, { default: string }>>(
  name: string,
  own: T,
): { runs: number } & { [K in keyof T]: string } {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      help: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.entries(own).map(([k, v]) => [k, { type: 'string', default: v.default }])),
    },
    allowPositionals: false,
  });
  if (values.help) {
    const flags = Object.entries(own)
      .map(([k, v]) => `--${k} ${v.default}`)
      .join(' ');
    console.log(`npm run bench:${name} -- [--runs 3] ${flags}`);
    process.exit(0);
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a positive integer, got ${String(values.runs)}`);
  return { ...(values as unknown as Record<string, string>), runs } as { runs: number } & { [K in keyof T]: string };
}

/** "20/5,100/20" → [{ targets: 20, window: 5 }, …] */
export function parseShapes(flag: string, what = '--shapes'): Array<{ targets: number; window: number }> {
  return flag.split(',').map((s) => {
    const m = /^(\d+)\/(\d+)$/.exec(s.trim());
    if (!m) throw new Error(`${what}: expected targets/window like 100/20, got "${s}"`);
    return { targets: Number(m[1]), window: Number(m[2]) };
  });
}

export function parseList(flag: string, allowed: readonly string[], what: string): string[] {
  const xs = flag.split(',').map((s) => s.trim());
  for (const x of xs) if (!allowed.includes(x)) throw new Error(`${what}: one of ${allowed.join(', ')}, got "${x}"`);
  return xs;
}
