// Each listener callback on its own: called directly with a fake ack/respond (our own seams, not Bolt's
// internals), for the paths that need neither Temporal nor Slack. The signed-request tests (bot.test.ts) cover
// the rest through the real Bolt app.
import type { BlockAction, RespondArguments, RespondFn } from '@slack/bolt';
import type { Client } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { encodeButtonValue, encodeRolloutValue } from '../../activities/slack/blocks';
import type { BotContext } from '../../src/bot/context';
import type { Directory } from '../../src/bot/directory';
import { cancelClicked } from '../../src/bot/listeners/actions/cancelClicked';
import { decisionClicked } from '../../src/bot/listeners/actions/decisionClicked';
import { withdrawClicked } from '../../src/bot/listeners/actions/withdrawClicked';
import { rolloutCommand } from '../../src/bot/listeners/commands/rolloutCommand';
import { threadMessage } from '../../src/bot/listeners/events/threadMessage';
import { NOT_UNDERSTOOD } from '../../src/bot/replies';
import { validateConfig } from '../../src/config/load';
import { memoryLogger } from '../slack/helpers';

/** Anything that reaches for Temporal (or the Web API) fails the test: these paths must not. */
const untouchable = <T extends object>(what: string) =>
  new Proxy({} as T, {
    get(_, prop) {
      throw new Error(`${what}.${String(prop)} used`);
    },
  });

function context(): BotContext {
  const config = validateConfig(
    {
      targets: { a: { transport: 'local', workdir: '/tmp/rollout-listeners-a', tags: ['web'] } },
      deployables: {
        'web-farm': { targets: ['tag:web'], starters: ['UALICE'], process: [{ name: 'deploy', script: 'true' }] },
      },
    },
    'test-config',
    '/',
  );
  const directory: Directory = {
    groupMembers: async () => undefined,
    expand: async (list) => new Set(list),
    allows: async (user, list) => list.length === 0 || list.includes(user),
  };
  return {
    config,
    client: untouchable<Client>('client'),
    taskQueue: 'tq',
    slackTaskQueue: 'tq-slack',
    directory,
    deliveryTimeoutMs: 1000,
    logger: memoryLogger(),
    now: () => new Date('2025-03-04T14:00:00Z'),
  };
}

/** A fake ack and respond that record the order of calls and what was said. */
function fakes() {
  const calls: string[] = [];
  const said: RespondArguments[] = [];
  return {
    calls,
    said,
    ack: async () => void calls.push('ack'),
    respond: (async (m: string | RespondArguments) => {
      calls.push('respond');
      said.push(typeof m === 'string' ? { text: m } : m);
    }) as unknown as RespondFn,
  };
}

function click(value: unknown, user = 'UALICE'): BlockAction {
  return {
    type: 'block_actions',
    user: { id: user },
    channel: { id: 'C1', name: 'deploys' },
    actions: [{ type: 'button', action_id: 'x', block_id: 'b', value, action_ts: '1' }],
  } as unknown as BlockAction;
}

const textOf = (m: RespondArguments | undefined) =>
  `${m?.text ?? ''} ${JSON.stringify((m as { blocks?: unknown })?.blocks ?? [])}`;

describe('action callbacks', () => {
  it('acks first, then says a button it cannot decode is not one it understands (ephemeral, nothing replaced)', async () => {
    const notADecision = encodeRolloutValue({
      rolloutId: 'rollout-web-farm-v2-0123abcd',
      deployable: 'web-farm',
      release: 'v2',
    });
    const notARollout = encodeButtonValue({
      rolloutId: 'rollout-web-farm-v2-0123abcd',
      decisionId: 'd1',
      choice: 'retry',
    });
    const cases = [
      [decisionClicked, notADecision],
      [decisionClicked, 'garbage'],
      [cancelClicked, notARollout],
      // What Withdraw buttons carried before: the bare rollout id.
      [withdrawClicked, 'rollout-web-farm-v2-0123abcd'],
    ] as const;
    for (const [callback, value] of cases) {
      const f = fakes();
      await callback(context())({
        ack: f.ack,
        respond: f.respond,
        body: click(value),
        client: untouchable('web'),
      } as never);
      expect(f.calls).toEqual(['ack', 'respond']);
      expect(f.said[0]).toMatchObject({ response_type: 'ephemeral', replace_original: false });
      expect(textOf(f.said[0])).toContain(NOT_UNDERSTOOD);
    }
  });

  it('Withdraw takes the deployable from the button and refuses one this bot does not know, without asking Temporal', async () => {
    const f = fakes();
    const value = encodeRolloutValue({ rolloutId: 'rollout-api-v2-0123abcd', deployable: 'api', release: 'v2' });
    await withdrawClicked(context())({
      ack: f.ack,
      respond: f.respond,
      body: click(value),
      client: untouchable('web'),
    });
    expect(f.calls).toEqual(['ack', 'respond']);
    expect(textOf(f.said[0])).toContain('rollout-api-v2-0123abcd is not a rollout of a deployable this bot knows.');
  });
});

describe('the /rollout callback', () => {
  const command = (text: string, user = 'UALICE') =>
    ({ command: 'rollout', text, user_id: user, channel_id: 'C1' }) as Parameters<
      ReturnType<typeof rolloutCommand>
    >[0]['command'];

  it('an unknown deployable and a user who may not start get the help, and nothing is posted or started', async () => {
    for (const [text, user, why, help] of [
      ['nope v2', 'UALICE', /unknown deployable/, /You may roll out.*web-farm/],
      ['web-farm', 'UALICE', /missing release/, /You may roll out.*web-farm/],
      ['web-farm v2', 'UEVE', /you may not roll out web-farm/, /You may not roll out any deployable/],
    ] as const) {
      const f = fakes();
      await rolloutCommand(context())({
        command: command(text, user),
        ack: f.ack,
        respond: f.respond,
        client: untouchable('web'),
      });
      expect(f.calls).toEqual(['ack', 'respond']);
      expect(f.said[0]).toMatchObject({ response_type: 'ephemeral' });
      expect(textOf(f.said[0])).toMatch(why);
      expect(textOf(f.said[0])).toMatch(help);
    }
  });
});

describe('the message event callback', () => {
  it('ignores bots, edits and messages outside a thread (nothing is looked up)', async () => {
    for (const event of [
      { type: 'message', text: 'status', ts: '2.0', thread_ts: '1.0', channel: 'C1', bot_id: 'B1' },
      { type: 'message', subtype: 'message_changed', text: 'status', ts: '2.0', thread_ts: '1.0', channel: 'C1' },
      { type: 'message', text: 'status', ts: '1.0', channel: 'C1' },
      { type: 'message', text: 'what is the status?', ts: '2.0', thread_ts: '1.0', channel: 'C1' },
    ]) {
      await threadMessage(context())({ event: event as never, client: untouchable('web') });
    }
  });
});
