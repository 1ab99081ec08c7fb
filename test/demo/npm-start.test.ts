// `npm start` on a fresh copy of the project, as a newcomer runs it: no TEMPORAL_ADDRESS, no Slack tokens, no
// state. It must reach "console ready at http://…" with no manual step, serve the console, and on Ctrl-C stop
// everything it started (embedded Temporal, farm, bot, console), leaving no process behind.
import { spawn, execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findFreeBasePort } from '../../src/temporal/devServer';

function copyProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'npm-start-'));
  // The files a clone has: tracked plus untracked-but-not-ignored (so the test sees work not committed yet).
  const files = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'])
    .toString()
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    mkdirSync(path.join(dir, path.dirname(f)), { recursive: true });
    try {
      cpSync(f, path.join(dir, f));
    } catch {
      // deleted in the working tree
    }
  }
  symlinkSync(path.resolve('node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'pid,args'])
    .toString()
    .split('\n')
    .filter((l) => l.includes(text) && !l.includes('ps -eo'));
}

describe('npm start on a fresh copy', () => {
  it('reaches "console ready at http://…", serves the console, and Ctrl-C leaves nothing running', async () => {
    const dir = copyProject();
    const env: NodeJS.ProcessEnv = { ...process.env, ROLLOUT_DEV_PORT_BASE: String(await findFreeBasePort()) };
    for (const k of [
      'TEMPORAL_ADDRESS',
      'TEMPORAL_TEST_ADDRESS',
      'ROLLOUT_CONFIG',
      'ROLLOUT_STATE_DIR',
      'ROLLOUT_TASK_QUEUE',
    ])
      delete env[k];
    for (const k of Object.keys(env)) if (k.startsWith('SLACK_')) delete env[k];
    const child = spawn('npm', ['start'], { cwd: dir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<string>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? String(code))),
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "console ready" line in 120 s:\n${output}`)), 120_000);
        const check = () => {
          const m = /console ready at (http:\/\/\S+)/.exec(output);
          if (m?.[1]) {
            clearTimeout(timer);
            resolve(m[1]);
          }
        };
        child.stdout.on('data', check);
        void exited.then((code) =>
          reject(new Error(`npm start exited (${code}) before the console was ready:\n${output}`)),
        );
      });
      expect(output).toMatch(/Temporal UI at http:\/\/127\.0\.0\.1:\d+/);
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(await page.text()).toMatch(/<html/i);
    } finally {
      // Ctrl-C in a terminal signals the whole foreground process group.
      try {
        process.kill(-(child.pid as number), 'SIGINT');
      } catch {
        // already gone
      }
    }
    const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 60_000))]);
    if (code === 'hung') process.kill(-(child.pid as number), 'SIGKILL');
    // npm itself dies of the SIGINT (or exits 0 once its script did); the script stops gracefully either way.
    expect(['0', 'SIGINT'], output).toContain(code);
    await expect.poll(() => output, { timeout: 30_000 }).toMatch(/rollout dev: stopping/);
    // Nothing it started is left: app servers, HAProxy, sshd, the embedded Temporal server all mention `dir`.
    let left: string[] = [];
    for (let i = 0; i < 50; i++) {
      left = processesMentioning(dir);
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(left).toEqual([]);
  });
});
