// Without TEMPORAL_ADDRESS the CLI starts the embedded dev server in ROLLOUT_STATE_DIR on first use and the next
// command reuses it; `rollout server stop` stops it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreeBasePort, isPidAlive, readDevServerRecord, stopDevServer } from '../../src/temporal/devServer';
import { cliEnv, killAllCli, runCli } from './helpers';

let stateDir: string;
let base: number;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollout-cli-state-'));
  base = await findFreeBasePort();
  env = cliEnv({ ROLLOUT_STATE_DIR: stateDir, ROLLOUT_DEV_PORT_BASE: String(base) });
});

afterAll(async () => {
  await killAllCli();
  if (stateDir) {
    await stopDevServer(stateDir).catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
});

describe('embedded Temporal dev server', () => {
  it('is started on first use, reused by the next command, and stopped by `server stop`', async () => {
    const before = await runCli(['server', 'status'], env);
    expect(before.code).toBe(1);
    expect(before.stdout).toMatch(/not running/);

    const first = await runCli(['status', 'rollout-none-1'], env);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/no such rollout: rollout-none-1/);
    const started = first.stderr.match(
      /TEMPORAL_ADDRESS is not set; started the embedded Temporal dev server at (\S+) \(UI (\S+)\), pid (\d+)/,
    );
    expect(started, first.stderr).not.toBeNull();
    expect(started![1]).toBe(`127.0.0.1:${base}`);
    expect(started![2]).toBe(`http://127.0.0.1:${base + 1000}`);
    const pid = Number(started![3]);
    expect(isPidAlive(pid)).toBe(true);
    expect((await readDevServerRecord(stateDir))?.pid).toBe(pid);
    // Exactly one notice line.
    expect(first.stderr.match(/embedded Temporal dev server/g)).toHaveLength(1);

    const second = await runCli(['status', 'rollout-none-2'], env);
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`using the embedded Temporal dev server at 127\\.0\\.0\\.1:${base} .*pid ${pid}`),
    );

    const status = await runCli(['server', 'status'], env);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`running at 127\\.0\\.0\\.1:${base} .*pid ${pid}`));

    const again = await runCli(['server', 'start'], env);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`already running at 127\\.0\\.0\\.1:${base} .*pid ${pid}`));

    const stop = await runCli(['server', 'stop'], env);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/Temporal dev server stopped/);
    expect(isPidAlive(pid)).toBe(false);
    expect(await readDevServerRecord(stateDir)).toBeUndefined();

    const stopAgain = await runCli(['server', 'stop'], env);
    expect(stopAgain.code).toBe(0);
    expect(stopAgain.stdout).toMatch(/no Temporal dev server was running/);
  });
});
