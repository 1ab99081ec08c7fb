// The bot as its own OS process (runBot), killed with SIGKILL mid-rollout and started again: a click on a card
// posted before the restart works and the root message resumes updating. Everything it knows is in Temporal.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ACTION_DECIDE_RETRY } from '../../activities/slack/blocks';
import { blockActionsBody, FORM_CONTENT_TYPE, postSigned, slashCommandBody } from '../../dev/signing';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { getFreePort } from '../../src/temporal/devServer';
import { rolloutHandle } from '../../src/temporal/client';
import { configFor, readTargetFile, realTransports } from '../support/rollouts';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, findButton, rolloutIdOf, roots, SECRET, textOf, threadOf, TOKEN, waitFor } from './harness';

let sshd: SshdFixture;
let env: TemporalTestEnv;
let standin: SlackStandin;
let transports: ReturnType<typeof realTransports>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  [sshd, env, standin] = await Promise.all([
    startSshd({ count: 2, baseAddress: '127.0.0.45', namePrefix: 'web' }),
    temporalTestEnv('botproc'),
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
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await env?.close();
  await transports?.close();
  await sshd?.stop();
  expect(standin?.refusals ?? []).toEqual([]);
  await standin?.close();
});

function spawnBot(configPath: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bot/botProcess.ts'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
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

describe('the bot process', () => {
  it('killed with SIGKILL mid-rollout and restarted: an old card still works and the root keeps updating', async () => {
    const targets = sshd.targetsFor('crash');
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
                  'if [ #{Machine.Name} = web2 ] && [ ! -f fixed ]; then echo "health check failed" >&2; exit 3; fi; printf %s #{Release} > version',
              },
            ],
          },
        ],
      },
    });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-bot-'));
    const configPath = path.join(dir, 'rollout.json');
    writeFileSync(
      configPath,
      JSON.stringify({ ...cfg.raw, temporal: { namespace: 'default', taskQueue: env.taskQueue } }),
    );
    const port = await getFreePort();
    const url = `http://127.0.0.1:${port}/slack/events`;

    let bot = await spawnBot(configPath, port);
    const rid = standin.responseUrlFor('proc-cmd', { channel: CHANNEL, user: 'UALICE' });
    const t0 = performance.now();
    const res = await postSigned(
      url,
      slashCommandBody({
        command: '/rollout',
        text: 'flaky v2',
        user_id: 'UALICE',
        channel_id: CHANNEL,
        response_url: rid,
      }),
      FORM_CONTENT_TYPE,
      SECRET,
    );
    expect(res.status).toBe(200);
    expect(performance.now() - t0).toBeLessThan(3000);
    const root = await waitFor(() => roots(standin)[0], 10_000, 'the root message');
    const rolloutId = rolloutIdOf(root);
    const card: StandinMessage = structuredClone(
      await waitFor(
        () => threadOf(standin, root).find((m) => textOf(m).includes(ACTION_DECIDE_RETRY)),
        30_000,
        'the failure card',
      ),
    );
    await waitFor(() => /waiting/i.test(textOf(root)) && root, 10_000, 'the root showing the wait');

    bot.kill('SIGKILL');
    await new Promise((r) => bot.once('exit', r));
    const versionsBefore = root.history.length;

    bot = await spawnBot(configPath, port);
    // The fresh bot finds the running rollout again and refreshes its root (it remembers nothing).
    await waitFor(() => root.history.length > versionsBefore, 10_000, 'the root updated by the new bot');
    expect(textOf(root)).toMatch(/running/i);

    writeFileSync(path.join(targets[1]!.workdir, 'fixed'), '');
    const click = standin.responseUrlFor('proc-click', { channel: CHANNEL, user: 'UALICE', messageTs: card.ts });
    const found = findButton(card, ACTION_DECIDE_RETRY)!;
    const body = blockActionsBody({
      user: 'UALICE',
      channel: CHANNEL,
      message: { ts: card.ts, blocks: card.blocks ?? [], ...(card.thread_ts ? { thread_ts: card.thread_ts } : {}) },
      actions: [{ action_id: ACTION_DECIDE_RETRY, block_id: found.blockId, value: found.value }],
      response_url: click,
    });
    const t1 = performance.now();
    const clicked = await postSigned(url, body, FORM_CONTENT_TYPE, SECRET);
    expect(clicked.status).toBe(200);
    expect(performance.now() - t1).toBeLessThan(3000);

    const result = await rolloutHandle(env.client, rolloutId).result();
    expect(result.status).toBe('succeeded');
    await waitFor(
      () => /Retry\*? chosen by <@UALICE>/.test(textOf(standin.message(CHANNEL, card.ts))),
      15_000,
      'the card outcome',
    );
    await waitFor(() => /succeeded/i.test(root.text ?? ''), 15_000, 'the root saying succeeded');
    expect(readTargetFile(targets[1]!, 'version')).toBe('v2');
    expect(standin.responses.filter((r) => r.id === 'proc-click')).toEqual([]);

    bot.kill('SIGTERM');
    await new Promise((r) => bot.once('exit', r));
  });
});
