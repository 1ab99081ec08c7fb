// The fixture the bot's feature tests share: real sshd targets, one Temporal test env with a worker on the real
// transports, and the Slack stand-in; harnesses pushed onto `harnesses` are stopped after the file (or after each
// test, with `cleanupEach`, which also terminates the rollouts still running on the task queue). After the file,
// every message the bot sent must have passed the stand-in's Block Kit checks.
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { startSlackStandin, type SlackStandin } from '../../dev/standin/server';
import { realTransports } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, TOKEN, type Harness } from './harness';

export interface BotSuite {
  sshd: SshdFixture;
  env: TemporalTestEnv;
  standin: SlackStandin;
  transports: ReturnType<typeof realTransports>;
  harnesses: Harness[];
}

export interface BotSuiteOptions {
  /** The Temporal test env's name (task queue prefix). */
  name: string;
  sshd: { count: number; baseAddress: string };
  /** Slack user ids the stand-in knows (named after the id without its leading U, lower case). */
  users: string[];
  cleanupEach?: boolean;
}

/** Registers the hooks; the returned object's fields are set once beforeAll has run. */
export function botSuite(o: BotSuiteOptions): BotSuite {
  const s = { harnesses: [] as Harness[] } as BotSuite;
  beforeAll(async () => {
    [s.sshd, s.env, s.standin] = await Promise.all([
      startSshd({ count: o.sshd.count, baseAddress: o.sshd.baseAddress, namePrefix: 'web' }),
      temporalTestEnv(o.name),
      startSlackStandin({
        tokens: [TOKEN],
        users: o.users.map((id) => ({ id, name: id.slice(1).toLowerCase() })),
        channels: [{ id: CHANNEL, name: 'deploys' }],
      }),
    ]);
    s.transports = realTransports();
    await s.env.startWorker(s.transports);
  });

  if (o.cleanupEach) {
    afterEach(async () => {
      for (const h of s.harnesses.splice(0)) await h.stop();
      for await (const wf of s.env.client.workflow.list({
        query: `TaskQueue = '${s.env.taskQueue}' AND ExecutionStatus = 'Running'`,
      })) {
        await s.env.client.workflow
          .getHandle(wf.workflowId)
          .terminate('test cleanup')
          .catch(() => undefined);
      }
    });
  }

  afterAll(async () => {
    const quietly = (p: Promise<unknown> | undefined) =>
      p?.catch((e: unknown) => console.warn(`cleanup: ${String(e)}`));
    for (const h of s.harnesses.splice(0)) await quietly(h.stop());
    await quietly(s.env?.close());
    await quietly(s.transports?.close());
    await quietly(s.sshd?.stop());
    expect(s.standin?.refusals ?? []).toEqual([]);
    await s.standin?.close();
  });
  return s;
}
