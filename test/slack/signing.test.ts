import { verifySlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { blockActionsBody, eventCallbackBody, signSlackRequest, slashCommandBody } from '../../dev/signing';

describe('signSlackRequest', () => {
  it("matches the example in Slack's documentation", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it("passes Bolt's own verifier, and fails it with another secret", () => {
    const body = eventCallbackBody({ type: 'app_mention', user: 'U1', text: 'hi', ts: '1.2', channel: 'C1' });
    const h = signSlackRequest('s3cret', body);
    const headers = {
      'x-slack-signature': h['x-slack-signature'],
      'x-slack-request-timestamp': Number(h['x-slack-request-timestamp']),
    };
    expect(() => verifySlackRequest({ signingSecret: 's3cret', body, headers })).not.toThrow();
    expect(() => verifySlackRequest({ signingSecret: 'other', body, headers })).toThrow(/signature mismatch/);
  });
});

describe('payload builders', () => {
  it('slashCommandBody is form-encoded with the fields Slack sends', () => {
    const p = new URLSearchParams(
      slashCommandBody({
        command: 'rollout',
        text: 'web prod',
        user_id: 'U1',
        channel_id: 'C1',
        response_url: 'http://x/response/1',
      }),
    );
    expect(Object.fromEntries(p)).toMatchObject({
      command: '/rollout',
      text: 'web prod',
      user_id: 'U1',
      user_name: 'U1',
      channel_id: 'C1',
      team_id: 'T0LOCAL',
      api_app_id: 'A0LOCAL',
      response_url: 'http://x/response/1',
      is_enterprise_install: 'false',
    });
    expect(p.get('trigger_id')).toMatch(/^\d+\.\d+\.[0-9a-f]{32}$/);
  });

  it('blockActionsBody is payload=<json> shaped like a block_actions payload', () => {
    const form = new URLSearchParams(
      blockActionsBody({
        user: 'U1',
        channel: 'C1',
        message: { ts: '1700000000.000100', text: 't', thread_ts: '1700000000.000001' },
        actions: [{ action_id: 'approve', block_id: 'b', value: 'v' }],
        response_url: 'http://x/response/2',
      }),
    );
    expect([...form.keys()]).toEqual(['payload']);
    const payload = JSON.parse(form.get('payload')!) as Record<string, unknown>;
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U1', team_id: 'T0LOCAL' },
      team: { id: 'T0LOCAL' },
      channel: { id: 'C1' },
      container: {
        type: 'message',
        message_ts: '1700000000.000100',
        channel_id: 'C1',
        is_ephemeral: false,
        thread_ts: '1700000000.000001',
      },
      message: { ts: '1700000000.000100', text: 't', thread_ts: '1700000000.000001' },
      response_url: 'http://x/response/2',
      actions: [
        {
          action_id: 'approve',
          block_id: 'b',
          value: 'v',
          type: 'button',
          text: { type: 'plain_text', text: 'approve' },
        },
      ],
      state: { values: {} },
    });
  });

  it('eventCallbackBody wraps the event in an event_callback envelope', () => {
    const env = JSON.parse(
      eventCallbackBody({ type: 'app_mention', text: 'hi' }, { team_id: 'T9', event_time: 5 }),
    ) as Record<string, unknown>;
    expect(env).toMatchObject({
      type: 'event_callback',
      team_id: 'T9',
      api_app_id: 'A0LOCAL',
      event_time: 5,
      event: { type: 'app_mention', text: 'hi' },
    });
    expect(env.event_id).toMatch(/^Ev0[0-9A-F]+$/);
  });
});
