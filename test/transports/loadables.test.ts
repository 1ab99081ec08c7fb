// The wrapper's file commands as bash loadable builtins (remoteCommand.ts, BUILTINS_FN): a run no longer starts a
// program for mkdir, mkfifo, ln or rm when the distribution's bash-builtins are there (.ci/run installs
// Debian's), and each builtin gives the wrapper what the program gave it. Programs are counted by shims put first
// on PATH (a builtin is found before PATH, so a shim that logs nothing was not needed); the control turns the
// builtins off with an empty ROLLOUT_BASH_LOADABLES and sees the programs again.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  buildRemoteCommand,
  DEFAULT_LOADABLES_PATH,
  LOADABLE_BUILTINS,
  newPoolMarker,
  POOL_LOOP_COMMAND,
  poolRequest,
} from '../../activities/transports/remoteCommand';

const dirs: string[] = [];
const tmp = (prefix: string): string => {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const loadablesDir = DEFAULT_LOADABLES_PATH.split(':').find((d) => existsSync(path.join(d, 'mkdir')));

/** A directory of shims that log their name to `log` and then run the real program. */
function shims(names: string[]): { bin: string; log: string; calls: () => string[] } {
  const bin = tmp('shims-');
  const log = path.join(bin, 'calls.log');
  for (const name of names) {
    const real = execFileSync('bash', ['--norc', '-c', `type -P ${name}`], { encoding: 'utf8' }).trim();
    const file = path.join(bin, name);
    writeFileSync(file, `#!/bin/sh\necho ${name} >> '${log}'\nexec '${real}' "$@"\n`);
    chmodSync(file, 0o755);
  }
  const calls = (): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  return { bin, log, calls };
}

/** Runs requests through one pooled loop (as a pooled SSH channel or local shell does) with the given env. */
async function throughPool(env: NodeJS.ProcessEnv, requests: { command: string; stdin: string }[]): Promise<string[]> {
  const child = spawn('bash', ['--norc', '-c', POOL_LOOP_COMMAND], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const results: string[] = [];
  try {
    for (const r of requests) {
      const marker = newPoolMarker();
      out = '';
      err = '';
      const bytes = poolRequest(marker, r.command, r.stdin);
      if (!bytes) throw new Error('request cannot be pooled');
      child.stdin.write(bytes);
      const t0 = Date.now();
      while (!(out.includes(marker) && err.includes(marker))) {
        if (Date.now() - t0 > 20_000) throw new Error(`no end marker: ${out} ${err}`);
        await new Promise((res) => setTimeout(res, 5));
      }
      results.push(out);
    }
  } finally {
    child.stdin.end();
  }
  return results;
}

const FILE_PROGRAMS = [...LOADABLE_BUILTINS, 'flock', 'setsid'];

describe('bash loadable builtins in the wrapper', { timeout: 60_000 }, () => {
  it('are installed here (Debian bash-builtins; .ci/run installs it)', () => {
    expect(loadablesDir, `no loadable mkdir in ${DEFAULT_LOADABLES_PATH}: apt-get install bash-builtins`).toBeDefined();
  });

  it('give the wrapper what the programs give it: same success or failure, same files', () => {
    // Each line as the wrapper uses the command; the state after each is listed (type and name).
    const script = [
      'mkdir a; echo "1 $?"',
      'mkdir a 2>/dev/null; echo "2 $?"',
      'mkdir nope/x 2>/dev/null; echo "3 $?"',
      'mkdir -p -- p/q/r; echo "4 $?"',
      'mkdir -p -- p/q/r; echo "5 $?"',
      'mkfifo -- a/wake 2>/dev/null; echo "6 $?"',
      'mkfifo -- a/wake 2>/dev/null; echo "7 $?"',
      'printf x > a/.status.1; ln a/.status.1 a/status 2>/dev/null; echo "8 $?"',
      'printf y > a/.status.2; ln a/.status.2 a/status 2>/dev/null; echo "9 $?"',
      'ln a/missing a/other 2>/dev/null; echo "10 $?"',
      'rm -f a/.status.1 a/none; echo "11 $?"',
      'rm -rf -- p a/none; echo "12 $?"',
      'read -r st < a/status; echo "16 $st"',
      'for f in a/* a/.status*; do [ -p "$f" ] && echo "p $f" || { [ -d "$f" ] && echo "d $f" || echo "f $f"; }; done',
      'rm -rf -- a; [ -e a ]; echo "17 $?"',
    ].join('\n');
    const run = (env: NodeJS.ProcessEnv, enable: boolean): string => {
      const cwd = tmp('loadables-');
      const pre = enable
        ? LOADABLE_BUILTINS.map((b) => `enable -f ${loadablesDir}/${b} ${b} || exit 9`).join('\n') +
          `\n[ "$(type -t mkdir) $(type -t rm) $(type -t ln)" = "builtin builtin builtin" ] || exit 8\n`
        : '';
      return execFileSync('bash', ['--norc', '-c', pre + script], { cwd, env, encoding: 'utf8' });
    };
    const programs = run(process.env, false);
    const builtins = run(process.env, true);
    expect(builtins).toBe(programs);
    // (and the sequence does test something: the failures are there)
    expect(programs).toContain('2 1');
    expect(programs).toContain('9 1');
    expect(programs).toContain('16 x');
  });

  it('a run through a pooled loop starts no program for them; with ROLLOUT_BASH_LOADABLES empty it does', async () => {
    const workdir = tmp('loadables-run-');
    const { bin, calls, log } = shims(FILE_PROGRAMS);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const cmd = (runId: string, cleanup?: string) =>
      buildRemoteCommand({
        workdir,
        env: { A: 'b' },
        runId,
        script: 'echo ran-$A',
        timeoutMs: 30_000,
        ...(cleanup ? { cleanupRunIds: [cleanup] } : {}),
      });

    const fast = await throughPool(env, [cmd('lb-1'), cmd('lb-2', 'lb-1')]);
    for (const out of fast) {
      expect(out).toMatch(/^S reason=exited exit=0 /m);
      expect(out).toContain('ran-b');
    }
    expect(existsSync(path.join(workdir, '.rollout/runs/lb-1'))).toBe(false); // removed by lb-2's start
    const withBuiltins = calls();
    rmSync(log, { force: true });

    // The control: the same two runs with the builtins off.
    const slow = await throughPool({ ...env, ROLLOUT_BASH_LOADABLES: '' }, [cmd('lb-3'), cmd('lb-4', 'lb-3')]);
    for (const out of slow) expect(out).toMatch(/^S reason=exited exit=0 /m);
    expect(existsSync(path.join(workdir, '.rollout/runs/lb-3'))).toBe(false);
    const without = calls();

    const count = (xs: string[], name: string): number => xs.filter((x) => x === name).length;
    console.log(`programs for two runs: ${withBuiltins.length} with the builtins, ${without.length} without`);
    // Two flock per run (the supervisor's alive lock and the target lock) and nothing else; no setsid either way.
    expect(withBuiltins.sort()).toEqual(['flock', 'flock', 'flock', 'flock']);
    expect(count(without, 'mkdir')).toBeGreaterThanOrEqual(4); // the claim and `launched`, per run
    expect(count(without, 'mkfifo')).toBe(2);
    expect(count(without, 'ln')).toBe(2);
    expect(count(without, 'rm')).toBeGreaterThanOrEqual(3);
    expect(count(without, 'setsid')).toBe(0);
  });

  it('a workdir made by another run at the same moment is not a failure (the builtin mkdir -p reports that race)', async () => {
    // The race, made certain: a function `mkdir` (exported into the loop) creates the workdir and then fails as the
    // builtin does when another run created it between its stat and its mkdir.
    const root = tmp('loadables-race-');
    const workdir = path.join(root, 'new', 'work');
    const env = {
      ...process.env,
      RACE_DIR: workdir,
      'BASH_FUNC_mkdir%%':
        '() { builtin mkdir "$@"; _rc=$?; if [ "$1" = -p ] && [ "$3" = "$RACE_DIR" ]; then echo "mkdir: cannot create directory: File exists" >&2; return 1; fi; return $_rc; }',
    };
    const cmd = (runId: string) => buildRemoteCommand({ workdir, env: {}, runId, script: 'echo in-$PWD' });
    const [ok] = await throughPool(env, [cmd('race-1')]);
    expect(ok).toMatch(/^S reason=exited exit=0 /m);
    expect(ok).toContain(`in-${workdir}`);

    // The control: without the `-d` test the same race fails the start.
    rmSync(path.join(root, 'new'), { recursive: true, force: true });
    const plain = cmd('race-2');
    const q = `'${workdir}'`;
    const fallback = ` 2>/dev/null || [ -d ${q} ] || mkdir -p -- ${q}`;
    expect(plain.command).toContain(fallback);
    const [failed] = await throughPool(env, [{ command: plain.command.replace(fallback, ''), stdin: plain.stdin }]);
    expect(failed).not.toMatch(/^rollout-run /m);
  });

  it('a fresh channel (no pooled loop) enables them too; a bash that is not the distribution one does not', async () => {
    const workdir = tmp('loadables-fresh-');
    const { bin, calls, log } = shims(FILE_PROGRAMS);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` };
    const { command, stdin } = buildRemoteCommand({ workdir, env: {}, runId: 'fresh-1', script: 'true' });
    const runFresh = (shell: string): string =>
      execFileSync(shell, ['--norc', '-c', command], { env, input: stdin, encoding: 'utf8' });
    expect(runFresh('bash')).toMatch(/^S reason=exited exit=0 /m);
    expect(calls().sort()).toEqual(['flock', 'flock']);
    rmSync(log, { force: true });

    // A bash run from another path (a copy: a self-built bash may not match the distribution's loadables).
    const other = path.join(tmp('otherbash-'), 'bash');
    writeFileSync(other, readFileSync(execFileSync('bash', ['-c', 'type -P bash'], { encoding: 'utf8' }).trim()));
    chmodSync(other, statSync('/bin/sh').mode | 0o755);
    const { command: c2, stdin: s2 } = buildRemoteCommand({ workdir, env: {}, runId: 'fresh-2', script: 'true' });
    const out = execFileSync(other, ['--norc', '-c', c2.replace('exec bash --norc', `exec ${other} --norc`)], {
      env,
      input: s2,
      encoding: 'utf8',
    });
    expect(out).toMatch(/^S reason=exited exit=0 /m);
    expect(calls()).toContain('mkdir');
  });
});
