// The compiled CLI: scripts/build-cli.mjs builds a bundle that answers `--help` without TypeScript, and
// bin/rollout.mjs runs the bundle only while no source is newer than it (else the sources, through tsx).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN, NODE, ROOT } from './helpers';

const run = promisify(execFile);
const cleanup: string[] = [];
afterAll(() => {
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

describe('compiled CLI', { timeout: 120_000 }, () => {
  it('builds a bundle whose --help needs no TypeScript', async () => {
    mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
    const dir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'cli-build-'));
    cleanup.push(dir);
    const out = path.join(dir, 'cli');
    const built = await run(NODE, [path.join(ROOT, 'scripts/build-cli.mjs'), '--outdir', out], { cwd: ROOT });
    expect(built.stdout).toMatch(/build-cli: .*main\.mjs from \d+ source files/);
    const t0 = performance.now();
    const help = await run(NODE, [path.join(out, 'main.mjs'), '--help'], { cwd: dir });
    console.log(`compiled rollout --help: ${(performance.now() - t0).toFixed(0)} ms`);
    expect(help.stdout).toMatch(/^Usage: rollout/);
    expect(help.stdout).toMatch(/\bstatus\b/);
  });

  it('--help and --version read no environment (they do not load its schema); a real command still checks it', async () => {
    // An environment the schema refuses: a command that needs it says so and exits 2 (the control); the calls that
    // only print text do not read it at all.
    const bad = { ...process.env, ROLLOUT_DEV_PORT_BASE: '70000' };
    for (const argv of [['--help'], ['--version'], ['status', '--help']]) {
      const r = await run(NODE, [BIN, ...argv], { cwd: ROOT, env: bad });
      expect(r.stdout.length, argv.join(' ')).toBeGreaterThan(0);
    }
    const refused = await run(NODE, [BIN, 'status', 'some-id'], { cwd: ROOT, env: bad }).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(refused?.code).toBe(2);
    expect(refused?.stderr).toMatch(/ROLLOUT_DEV_PORT_BASE/);
  });

  it('bin/rollout.mjs runs the bundle while it is fresh, the sources when one is newer or no bundle exists', async () => {
    // A stand-in checkout: the real bin, a "bundle" and "sources" that say which one ran, node_modules for tsx.
    const dir = mkdtempSync(path.join(ROOT, 'test-artifacts', 'cli-bin-'));
    cleanup.push(dir);
    mkdirSync(path.join(dir, 'bin'));
    mkdirSync(path.join(dir, 'dist/cli'), { recursive: true });
    mkdirSync(path.join(dir, 'src/cli'), { recursive: true });
    copyFileSync(BIN, path.join(dir, 'bin/rollout.mjs'));
    symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
    writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n');
    writeFileSync(path.join(dir, 'src/cli/main.ts'), "const from: string = 'sources'; console.log(from);\n");
    writeFileSync(path.join(dir, 'src/used.ts'), 'export {};\n');
    writeFileSync(path.join(dir, 'dist/cli/main.mjs'), "console.log('bundle');\n");
    writeFileSync(
      path.join(dir, 'dist/cli/inputs.json'),
      JSON.stringify(['src/cli/main.ts', 'src/used.ts', 'dev/not-in-the-image.ts']),
    );
    const which = async () => (await run(NODE, [path.join(dir, 'bin/rollout.mjs')], { cwd: dir })).stdout.trim();
    const at = (f: string, secondsAgo: number) => {
      const t = new Date(Date.now() - secondsAgo * 1000);
      utimesSync(path.join(dir, f), t, t);
    };

    at('src/cli/main.ts', 60);
    at('src/used.ts', 60);
    at('dist/cli/main.mjs', 30);
    expect(await which()).toBe('bundle'); // every listed source older; a missing one (dev/ in the image) is fine
    at('src/used.ts', 10); // edited after the build
    expect(await which()).toBe('sources');
    at('src/used.ts', 60);
    expect(await which()).toBe('bundle');
    rmSync(path.join(dir, 'dist'), { recursive: true });
    expect(await which()).toBe('sources');
  });
});
