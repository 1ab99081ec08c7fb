// The guided-failure scenario through the real bot, against the self-hosted server over mTLS: the bot runs as its
// own OS process (runBot, connected by the standard TEMPORAL_* variables alone), receives signed Slack requests
// and posts to the Slack stand-in; a worker with real SSH transports runs the scripts on sshd targets. A failing
// target: Retry is clicked (it fails again), then Exclude; the rollout finishes without it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DECIDE_EXCLUDE, ACTION_DECIDE_RETRY } from '../../activities/slack/blocks';
import { blockActionsBody, FORM_CONTENT_TYPE, postSigned, slashCommandBody } from '../../dev/signing';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { getFreePort } from '../../src/temporal/devServer';
import { rolloutHandle } from '../../src/temporal/client';
import { configFor, readTargetFile, realTransports } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { CHANNEL, findButton, rolloutIdOf, roots, SECRET, textOf, threadOf, TOKEN, waitFor } from '../bot/harness';
import { clusterEnv, clusterEnvVars, killProcess, type ClusterEnv } from './support';

let sshd: SshdFixture;
let env: ClusterEnv;
let standin: SlackStandin;
let transports: ReturnType<typeof realTransports>;
const children: ChildProcess[] = [];
const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-cluster-bot-'));

beforeAll(async () => {
  [sshd, env, standin] = await Promise.all([
    startSshd({ count: 2, baseAddress: '127.0.9.11', namePrefix: 'web' }),
    clusterEnv('guided'),
    startSlackStandin({
      tokens: [TOKEN],
      users: [{ id: 'UALICE', name: 'alice' }],
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
});

afterAll(async () => {
  for (const c of children) await killProcess(c, 'SIGTERM').catch(() => undefined);
  await env?.close();
  await transports?.close();
  await sshd?.stop();
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
  rmSync(dir, { recursive: true, force: true });
});

function spawnBot(configPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bot/botProcess.ts'], {
    env: {
      ...process.env,
      ...clusterEnvVars(),
      ROLLOUT_TASK_QUEUE: env.taskQueue,
      ROLLOUT_CONFIG: configPath,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: standin.url,
      SLACK_APP_TOKEN: '',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`bot exited ${code}`)));
  });
}

describe('guided failure through the bot', () => {
  it('a failing target: Retry (fails again), then Exclude; the rollout succeeds without it', async () => {
    const targets = sshd.targetsFor('guided');
    const cfg = configFor(targets, {
      flaky: {
        targets: ['tag:web'],
        starters: ['UALICE'],
        approvers: ['UALICE'],
        process: [
          {
            type: 'rolling',
            name: 'deploy',
            window: 2,
            childSteps: [
              {
                name: 'install',
                script:
                  'echo run >> install-runs; if [ #{Machine.Name} = web2 ]; then echo "health check failed" >&2; exit 3; fi; printf %s #{Release} > version',
              },
            ],
          },
        ],
      },
    });
    const configPath = path.join(dir, 'rollout.json');
    writeFileSync(
      configPath,
      JSON.stringify({ ...cfg.raw, temporal: { namespace: 'default', taskQueue: env.taskQueue } }),
    );
    const port = await getFreePort();
    const url = `http://127.0.0.1:${port}/slack/events`;
    await spawnBot(configPath, port);

    const command = await postSigned(
      url,
      slashCommandBody({
        command: '/rollout',
        text: 'flaky v2',
        user_id: 'UALICE',
        channel_id: CHANNEL,
        response_url: standin.responseUrlFor('cmd', { channel: CHANNEL, user: 'UALICE' }),
      }),
      FORM_CONTENT_TYPE,
      SECRET,
    );
    expect(command.status).toBe(200);
    const root = await waitFor(() => roots(standin)[0], 15_000, 'the root message');
    const rolloutId = rolloutIdOf(root);
    expect(rolloutId).toMatch(/^rollout-flaky-v2-/);

    const cards = () => threadOf(standin, root).filter((m) => textOf(m).includes(ACTION_DECIDE_RETRY));
    const click = async (card: StandinMessage, actionId: string, id: string) => {
      const found = findButton(card, actionId)!;
      const t0 = performance.now();
      const res = await postSigned(
        url,
        blockActionsBody({
          user: 'UALICE',
          channel: CHANNEL,
          message: { ts: card.ts, blocks: card.blocks ?? [], ...(card.thread_ts ? { thread_ts: card.thread_ts } : {}) },
          actions: [{ action_id: actionId, block_id: found.blockId, value: found.value }],
          response_url: standin.responseUrlFor(id, { channel: CHANNEL, user: 'UALICE', messageTs: card.ts }),
        }),
        FORM_CONTENT_TYPE,
        SECRET,
      );
      expect(res.status).toBe(200);
      expect(performance.now() - t0).toBeLessThan(3000);
      expect(standin.responses.filter((r) => r.id === id)).toEqual([]); // accepted: nothing extra for the clicker
    };

    const first: StandinMessage = structuredClone(await waitFor(() => cards()[0], 30_000, 'the failure card'));
    expect(textOf(first)).toContain('health check failed');
    await click(first, ACTION_DECIDE_RETRY, 'retry');
    await waitFor(
      () => /Retry\*? chosen by <@UALICE>/.test(textOf(standin.message(CHANNEL, first.ts))),
      15_000,
      'Retry on the first card',
    );

    // The retry fails again: a second card; this time the machine is excluded.
    const second: StandinMessage = structuredClone(
      await waitFor(() => cards().find((m) => m.ts !== first.ts), 30_000, 'the second failure card'),
    );
    await click(second, ACTION_DECIDE_EXCLUDE, 'exclude');

    const result = await rolloutHandle(env.conn.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    expect(result.summary.steps[0]?.counts).toMatchObject({ succeeded: 1, excluded: 1 });
    await waitFor(
      () => /Exclude\*? chosen by <@UALICE>/.test(textOf(standin.message(CHANNEL, second.ts))),
      15_000,
      'Exclude on the second card',
    );
    await waitFor(() => /succeeded/i.test(root.text ?? ''), 15_000, 'the root saying succeeded');
    expect(readTargetFile(targets[0]!, 'version')).toBe('v2');
    expect(readTargetFile(targets[1]!, 'version')).toBeUndefined();
    expect((readTargetFile(targets[1]!, 'install-runs') ?? '').trim().split('\n')).toHaveLength(2);
  });
});
