// The run-once follower learns the outcome as soon as the supervisor publishes it (the run's wake FIFO), not at
// its next poll. With a long poll (pollMaxMs 8 s) the follower is deep in a nap when a 1.2 s script ends; the
// control (no FIFO, as for a run claimed by an older version) shows that it then waits for the nap to end.
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildRemoteCommand } from '../../activities/transports/remoteCommand';

function runCommand(command: string, stdin: string): Promise<{ stdout: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = execFile('bash', ['--norc', '-c', command], { timeout: 60_000 }, (err, stdout) =>
      err ? reject(err) : resolve({ stdout, ms: performance.now() - t0 }),
    );
    child.stdin!.end(stdin);
  });
}

describe('run-once follower wake-up', { timeout: 60_000 }, () => {
  it('ends its nap when the outcome is published; without the FIFO it sleeps the nap out', async () => {
    const workdir = mkdtempSync(path.join(os.tmpdir(), 'wake-'));
    const cmd = (runId: string) =>
      buildRemoteCommand({ workdir, env: {}, runId, script: 'sleep 1.2; echo done', pollMaxMs: 8000 });

    const woken = cmd('run-wake');
    const fast = await runCommand(woken.command, woken.stdin);
    expect(fast.stdout).toMatch(/^S reason=exited exit=0 /m);
    expect(fast.stdout).toContain('done');

    const plain = cmd('run-nofifo');
    expect(plain.command).toContain('mkfifo --');
    const slow = await runCommand(plain.command.replace('mkfifo --', 'false'), plain.stdin);
    expect(slow.stdout).toMatch(/^S reason=exited exit=0 /m);

    console.log(
      `1.2 s script, 8 s poll: ${fast.ms.toFixed(0)} ms with the wake FIFO, ${slow.ms.toFixed(0)} ms without`,
    );
    expect(slow.ms).toBeGreaterThan(8000); // the control: the follower napped through the end
    expect(fast.ms).toBeLessThan(6000);
  });
});
