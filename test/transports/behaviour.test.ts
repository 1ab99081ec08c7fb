// The behaviour both transports share, run against each: the local transport and SSH to a real sshd.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it as vitestIt } from 'vitest';
import type { TargetPlan } from '../../domain/plan';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import { TAIL_LIMIT, type ScriptRequest, type Transport } from '../../activities/transports/types';
import { startSshd, type SshdFixture } from '../support/sshd';

/** Live (non-zombie) processes of a process group on this machine (the SSH targets are this machine too). */
function liveInGroup(pgid: string): string[] {
  const out = execFileSync('ps', ['-e', '-o', 'pid=,pgid=,stat=,args='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[1] === pgid && !(f[2] ?? '').startsWith('Z'))
    .map((f) => f.join(' '));
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Setup {
  transport: Transport;
  /** A target with a workdir of its own. */
  target(testName: string): TargetPlan;
}

let sshd: SshdFixture | undefined;
let localRoot = '';

const setups: Array<{ name: string; make: () => Setup }> = [
  {
    name: 'local',
    make: () => {
      let n = 0;
      return {
        transport: new LocalTransport({ killGraceMs: 1000 }),
        target: (testName) => ({
          name: 'local',
          transport: 'local',
          host: 'localhost',
          port: 0,
          user: '',
          tags: [],
          workdir: join(localRoot, `${testName.replace(/\W+/g, '_')}-${++n}`, 'work dir'),
          strictHostKeyChecking: false,
          variables: {},
        }),
      };
    },
  },
  {
    name: 'ssh',
    make: () => ({
      transport: new SshTransport({ killGraceMs: 1000 }),
      target: (testName) => sshd!.targetsFor(testName)[0]!,
    }),
  },
];

beforeAll(async () => {
  localRoot = await mkdtemp(join(tmpdir(), 'rollout-local-'));
  sshd = await startSshd({ count: 1, baseAddress: '127.0.1.21', port: 2222 });
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  await rm(localRoot, { recursive: true, force: true });
});

describe.each(setups)('$name transport', ({ make }) => {
  const s: Setup = make();
  // Each test has targets (workdirs, locks) of its own, so the tests of a transport run concurrently.
  const it = (name: string, fn: () => Promise<void>): void => {
    vitestIt.concurrent(name, fn, 30_000);
  };
  afterAll(async () => {
    await s.transport.close();
  });

  const run = (target: TargetPlan, script: string, extra: Partial<ScriptRequest> = {}) =>
    s.transport.run({ target, script, env: {}, timeoutMs: 20_000, ...extra });

  it('runs the script in the (created) workdir with env values and script text kept verbatim', async () => {
    const target = s.target('verbatim');
    const tricky = `it's "quoted" $HOME \`uname\` $(id) # not a comment\\n \\ back\nsecond line ünïcødé ☃ \t tab`;
    const script = [
      '# a comment line',
      'echo "hash # inside quotes" # trailing comment',
      'printf \'%s\\n\' "$TRICKY"',
      'printf "%s|%s\\n" "$PLAIN" "$EMPTY"',
      "cat <<'EOF'",
      'heredoc \'single\' "double" $NOT_EXPANDED `nor this`',
      'EOF',
      'pwd',
      'printf "no newline at the end"',
    ].join('\n');
    const r = await run(target, script, { env: { TRICKY: tricky, PLAIN: 'plain', EMPTY: '' } });
    expect(r.exitCode).toBe(0);
    expect(r.stderrTail).toBe('');
    const wd = await realpath(target.workdir);
    expect(r.stdoutTail).toBe(
      [
        'hash # inside quotes',
        tricky,
        'plain|',
        'heredoc \'single\' "double" $NOT_EXPANDED `nor this`',
        wd,
        'no newline at the end',
      ].join('\n'),
    );
    expect(r.timedOut).toBe(false);
    expect(r.aborted).toBe(false);
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('keeps env values off command lines and leaves only the lock file in the workdir', async () => {
    const target = s.target('env private');
    const r = await run(target, 'echo "$TOKEN" | wc -c; ps -e -o args= | grep -c "tok-s3cr[3]t" || true', {
      env: { TOKEN: 'tok-s3cr3t-value' },
    });
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTail).toBe('17\n0\n');
    expect(readdirSync(target.workdir)).toEqual(['.rollout.lock']);
  });

  it('reports the exit code of the script', async () => {
    const target = s.target('exit codes');
    const cases: Array<[string, number]> = [
      ['exit 0', 0],
      ['exit 3', 3],
      ['exit 255', 255],
      ['false', 1],
      ['set -e\nfalse\necho not reached', 1],
      ['if then fi', 2], // syntax error
      ['no-such-command-xyz', 127],
    ];
    const results = await Promise.all(cases.map(([script]) => run(target, script)));
    expect(results.map((r) => r.exitCode)).toEqual(cases.map(([, code]) => code));
  });

  it('collects output variables and streams every line to onLine', async () => {
    const target = s.target('outputs');
    const lines: Array<[string, string]> = [];
    const r = await run(
      target,
      [
        'set_output version 1.2.3',
        `set_output tricky "it's a \\\\ back'slash' and spaces"`,
        "echo \"##rollout[setOutput name='raw' value='direct']\"",
        'set_output version 1.2.4',
        'echo to-stderr >&2',
        'echo "not an output"',
        'printf partial',
      ].join('\n'),
      { onLine: (line, stream) => lines.push([stream, line]) },
    );
    expect(r.exitCode).toBe(0);
    expect(r.outputs).toEqual({ version: '1.2.4', tricky: "it's a \\ back'slash' and spaces", raw: 'direct' });
    expect(lines.filter(([st]) => st === 'stderr')).toEqual([['stderr', 'to-stderr']]);
    const out = lines.filter(([st]) => st === 'stdout').map(([, l]) => l);
    expect(out).toHaveLength(6);
    expect(out.slice(-2)).toEqual(['not an output', 'partial']);
    expect(r.stdoutTail).toContain("##rollout[setOutput name='version' value='1.2.4']");
  });

  it('keeps bounded tails of big outputs', async () => {
    const target = s.target('tails');
    let count = 0;
    const r = await run(target, 'seq 1 30000; seq 1 30000 | sed s/^/e/ >&2', { onLine: () => void count++ });
    expect(r.exitCode).toBe(0);
    expect(count).toBe(60_000);
    expect(r.stdoutTail.length).toBeLessThanOrEqual(TAIL_LIMIT);
    expect(r.stdoutTail.length).toBeGreaterThan(TAIL_LIMIT - 10);
    expect(r.stdoutTail.endsWith('\n29999\n30000\n')).toBe(true);
    expect(r.stderrTail.length).toBeLessThanOrEqual(TAIL_LIMIT);
    expect(r.stderrTail.endsWith('e30000\n')).toBe(true);
  });

  it('passes big scripts whole and gives the script an empty stdin', async () => {
    const target = s.target('big script');
    const filler = Array.from({ length: 4000 }, (_, i) => `# filler line ${i} ${'x'.repeat(60)}`).join('\n');
    const r = await run(
      target,
      `${filler}\nif read -r line; then echo "stdin: $line"; else echo no-stdin; fi\necho end`,
    );
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTail).toBe('no-stdin\nend\n');
  });

  it('does not wait for, nor stay locked by, a background process that keeps the output open', async () => {
    const target = s.target('daemon');
    const t0 = Date.now();
    const r = await run(target, 'sleep 30 &\nset_output pid $!\necho started');
    expect(r.exitCode).toBe(0);
    expect(r.stdoutTail).toContain('started');
    const pid = r.outputs.pid!;
    try {
      expect(Date.now() - t0).toBeLessThan(5000);
      const r2 = await run(target, 'echo second', { timeoutMs: 5000 });
      expect(r2.exitCode).toBe(0);
      expect(r2.stdoutTail).toBe('second\n');
    } finally {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  });

  it('on timeout kills the whole process group and releases the lock', async () => {
    const target = s.target('timeout');
    const seen: string[] = [];
    const t0 = Date.now();
    const r = await run(
      target,
      [
        'sleep 1000 &',
        'set_output child $!',
        'set_output pgid "$(ps -o pgid= -p $$ | tr -d " ")"',
        "trap 'echo got TERM; exit 143' TERM", // the script may clean up on SIGTERM
        'sleep 1000 & wait',
      ].join('\n'),
      { timeoutMs: 1000, onLine: (l) => seen.push(l) },
    );
    expect(r).toMatchObject({ exitCode: null, timedOut: true, aborted: false });
    expect(Date.now() - t0).toBeLessThan(6000);
    const pgid = r.outputs.pgid!;
    expect(pgid).toMatch(/^\d+$/);
    expect(liveInGroup(pgid)).toEqual([]);
    expect(seen).toContain('got TERM');
    // the lock is free again
    const r2 = await run(target, 'echo after', { timeoutMs: 5000 });
    expect(r2.exitCode).toBe(0);
  });

  it('SIGKILLs a group that ignores SIGTERM', async () => {
    const target = s.target('stubborn');
    const r = await run(
      target,
      ["trap '' TERM", 'set_output pgid "$(ps -o pgid= -p $$ | tr -d " ")"', 'sleep 1000'].join('\n'),
      {
        timeoutMs: 800,
      },
    );
    expect(r.timedOut).toBe(true);
    expect(liveInGroup(r.outputs.pgid!)).toEqual([]);
  });

  it('an AbortSignal kills the run', async () => {
    const target = s.target('abort');
    const ac = new AbortController();
    const r = await run(
      target,
      [
        'set_output pgid "$(ps -o pgid= -p $$ | tr -d " ")"',
        'echo ready',
        '(sleep 1000; echo never) &',
        'sleep 1000',
      ].join('\n'),
      {
        signal: ac.signal,
        onLine: (l) => {
          if (l === 'ready') setTimeout(() => ac.abort(), 100);
        },
      },
    );
    expect(r).toMatchObject({ exitCode: null, timedOut: false, aborted: true });
    expect(liveInGroup(r.outputs.pgid!)).toEqual([]);
  });

  it('an already aborted signal runs nothing', async () => {
    const target = s.target('pre-aborted');
    const r = await run(target, 'touch ran', { signal: AbortSignal.abort() });
    expect(r).toMatchObject({ exitCode: null, aborted: true });
    await sleep(200);
    expect(existsSync(join(target.workdir, 'ran'))).toBe(false);
  });

  it('serialises concurrent runs on the same target with the lock', async () => {
    const target = s.target('lock');
    const script = (tag: string) =>
      `echo "${tag} start $(date +%s%N)" >> log.txt; sleep 0.7; echo "${tag} end $(date +%s%N)" >> log.txt`;
    const [a, b] = await Promise.all([run(target, script('a')), run(target, script('b'))]);
    expect(a.exitCode).toBe(0);
    expect(b.exitCode).toBe(0);
    const events = (await readFile(join(target.workdir, 'log.txt'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' '));
    expect(events).toHaveLength(4);
    // start, end, start, end of the same run each time: no overlap
    expect(events.map((e) => e[1])).toEqual(['start', 'end', 'start', 'end']);
    expect(events[0]![0]).toBe(events[1]![0]);
    expect(events[2]![0]).toBe(events[3]![0]);
    expect(BigInt(events[2]![2]!)).toBeGreaterThanOrEqual(BigInt(events[1]![2]!));
  });

  it('a run aborted while waiting for the lock never starts', async () => {
    const target = s.target('queued abort');
    // Holds the lock well past the abort below, even when the abort takes seconds to arrive on a loaded machine.
    const first = run(target, 'echo first > first.txt; sleep 6');
    // first holds the lock once its script has started (under load that can take a while)
    for (let i = 0; i < 200 && !existsSync(join(target.workdir, 'first.txt')); i++) await sleep(25);
    const ac = new AbortController();
    const second = run(target, 'touch second-ran', { signal: ac.signal });
    await sleep(300);
    ac.abort();
    const r2 = await second;
    expect(r2.aborted).toBe(true);
    const r1 = await first;
    expect(r1.exitCode).toBe(0);
    await sleep(300);
    expect(existsSync(join(target.workdir, 'second-ran'))).toBe(false);
    // and the lock is usable afterwards
    expect((await run(target, 'true', { timeoutMs: 5000 })).exitCode).toBe(0);
  });
});
