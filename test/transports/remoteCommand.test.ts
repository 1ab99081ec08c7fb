import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  buildKillCommand,
  buildRemoteCommand,
  newRunId,
  OutputCollector,
  shellPath,
  shellQuote,
} from '../../activities/transports/remoteCommand';
import { TAIL_LIMIT } from '../../activities/transports/types';

const sh = (script: string): string => execFileSync('bash', ['--norc', '-c', script], { encoding: 'utf8' });

describe('remoteCommand', { timeout: 30_000 }, () => {
  it('shellQuote survives any characters but NUL', () => {
    const values = ["it's", '"$HOME" `id` $(id) \\ # ; | & > <', 'line1\nline2', '', "''", 'ünï ☃'];
    for (const v of values) expect(sh(`printf %s ${shellQuote(v)}`)).toBe(v);
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
  });

  it('shellPath expands a leading ~/ only', () => {
    expect(sh(`printf %s ${shellPath('~/a b')}`)).toBe(`${process.env.HOME}/a b`);
    expect(sh(`printf %s ${shellPath('/x/~/y')}`)).toBe('/x/~/y');
  });

  it('rejects bad env names and run ids', () => {
    expect(() => buildRemoteCommand({ workdir: '/tmp/x', env: { 'A-B': '1' }, runId: 'r1', script: '' })).toThrow(
      /invalid environment variable name/,
    );
    expect(() => buildRemoteCommand({ workdir: '/tmp/x', env: {}, runId: 'a;b', script: '' })).toThrow(
      /invalid run id/,
    );
    expect(() => buildKillCommand('/tmp/x', '../x')).toThrow(/invalid run id/);
    expect(newRunId()).toMatch(/^[a-z0-9]+-[0-9a-f]{12}$/);
  });

  it('builds a command that locks, records the process group and runs the script from stdin', () => {
    const { command, stdin } = buildRemoteCommand({
      workdir: '/srv/app',
      env: { SECRET: "s3cr3t'value" },
      runId: 'r1',
      script: 'echo hi',
    });
    // env values travel on stdin, never on the command line (which `ps` shows to every user)
    expect(command).not.toContain('s3cr3t');
    expect(stdin).toBe(`export SECRET='s3cr3t'\\''value'\necho hi`);
    expect(command).toContain("mkdir -p -- '/srv/app'");
    expect(command).toContain('flock 9');
    // The supervisor and the script each in a process group of its own (job control for their forks).
    expect(command).toContain('set -m; ( _r_launch )');
    expect(command).toContain('set -m; ( echo $BASHPID > "$_r_d/pgid"');
    expect(command).not.toContain('setsid');
    // Run files moved from `.rollout-<runId>.*` to a directory per run (issue 9: detached runs).
    expect(command).toContain('.rollout/runs/r1');
    expect(command).toContain('/pgid');
    expect(command).toContain('.rollout.lock');
    const kill = buildKillCommand('/srv/app', 'r1', 500);
    expect(kill).toContain('kill -TERM');
    expect(kill).toContain('kill -KILL');
  });

  it('OutputCollector splits lines across chunks and multi-byte characters, and bounds tails', () => {
    const lines: string[] = [];
    const c = new OutputCollector((l, s) => lines.push(`${s}:${l}`));
    const snow = Buffer.from('☃\n');
    c.push('stdout', Buffer.from('hel'));
    c.push('stdout', Buffer.concat([Buffer.from('lo '), snow.subarray(0, 1)]));
    c.push('stdout', snow.subarray(1));
    c.push('stderr', 'a\r\nb');
    c.push('stdout', "##rollout[setOutput name='k' value='v\\'w']\n");
    c.finish();
    expect(lines).toEqual([
      'stdout:hello ☃',
      'stderr:a',
      "stdout:##rollout[setOutput name='k' value='v\\'w']",
      'stderr:b',
    ]);
    expect(c.outputs).toEqual({ k: "v'w" });
    const big = new OutputCollector();
    for (let i = 0; i < 1000; i++) big.push('stdout', `${'x'.repeat(99)}\n`);
    expect(big.stdoutTail.length).toBe(TAIL_LIMIT);
  });
});
