// Response URLs: one per interaction, registered with the context Slack would know (channel, user, the message
// clicked), usable `maxUses` times; a post there replies ephemerally or in channel, or replaces or deletes the
// original message.
import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { validateMessage } from './blockKit';
import type { CallLog } from './calls';
import { failureAnswer, type Faults } from './faults';
import {
  blocksParam,
  bool,
  contentTypeOf,
  parseForm,
  readBody,
  send,
  SlackApiError,
  str,
  type ApiAnswer,
  type Params,
} from './protocol';
import type { Refusals } from './refusals';
import type { MessageStore } from './store';
import type { RecordedResponse, ResponseUrlContext } from './types';

export interface ResponseUrlDeps {
  /** How many times one response URL may be used (Slack: 5). */
  maxUses: number;
  bot: { user_id: string };
  store: MessageStore;
  refusals: Refusals;
  faults: Faults;
  calls: CallLog;
  emitter: EventEmitter;
}

export interface ResponseUrls {
  readonly responses: RecordedResponse[];
  /** Registers (or re-registers, keeping its use count) response URL `id` with its context. */
  register(id: string, context: ResponseUrlContext): void;
  /** Answers a post to response URL `id`. */
  handle(req: IncomingMessage, res: ServerResponse, id: string): Promise<void>;
  /** Forgets every response URL and recorded response. */
  clear(): void;
}

export function createResponseUrls(deps: ResponseUrlDeps): ResponseUrls {
  const { maxUses, bot, store, refusals, faults, calls, emitter } = deps;
  const responseUrls = new Map<string, { context: ResponseUrlContext; uses: number }>();
  const responses: RecordedResponse[] = [];

  function handleResponseUrl(id: string, body: Params): ApiAnswer & { outcome?: RecordedResponse } {
    const entry = responseUrls.get(id);
    if (entry === undefined) return { status: 404, body: { ok: false, error: 'expired_url' } };
    if (entry.uses >= maxUses) return { status: 404, body: { ok: false, error: 'used_url' } };
    entry.uses++;
    const ctx = entry.context;
    const base = { id, at: Date.now(), context: ctx, body };
    const original =
      ctx.channel !== undefined && ctx.messageTs !== undefined ? store.find(ctx.channel, ctx.messageTs) : undefined;

    if (bool(body.delete_original)) {
      if (original === undefined) {
        return {
          status: 404,
          body: { ok: false, error: 'message_not_found' },
          outcome: { ...base, outcome: 'failed', error: 'message_not_found' },
        };
      }
      store.remove(original);
      return { body: { ok: true }, outcome: { ...base, outcome: 'deleted', message: original } };
    }
    const problems = validateMessage({ text: body.text, blocks: body.blocks });
    if (problems.length > 0) {
      try {
        refusals.refuse('response_url', body, problems);
      } catch (e) {
        const err = e instanceof SlackApiError ? e.error : 'invalid_blocks';
        return {
          status: 400,
          body: { ok: false, error: err, errors: problems },
          outcome: { ...base, outcome: 'refused', error: err },
        };
      }
    }
    const text = str(body.text);
    const blocks = blocksParam(body.blocks);
    if (bool(body.replace_original) && original !== undefined) {
      store.edit(original, text ?? '', blocks ?? [], bot.user_id);
      return { body: { ok: true }, outcome: { ...base, outcome: 'replaced', message: original } };
    }
    if (ctx.channel === undefined) {
      return {
        status: 404,
        body: { ok: false, error: 'channel_not_found' },
        outcome: { ...base, outcome: 'failed', error: 'channel_not_found' },
      };
    }
    const inChannel = body.response_type === 'in_channel';
    if (!inChannel && ctx.user === undefined) {
      return {
        status: 404,
        body: { ok: false, error: 'user_not_found' },
        outcome: { ...base, outcome: 'failed', error: 'user_not_found' },
      };
    }
    const threadTs = str(body.thread_ts) ?? ctx.threadTs;
    const m = store.post(
      ctx.channel,
      {
        ...(text !== undefined ? { text } : {}),
        ...(blocks !== undefined ? { blocks } : {}),
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
      },
      { source: 'response_url', ...(inChannel ? {} : { ephemeralUser: ctx.user }) },
    );
    return { body: { ok: true }, outcome: { ...base, outcome: 'posted', message: m } };
  }

  async function handleResponse(req: IncomingMessage, res: ServerResponse, id: string) {
    const raw = await readBody(req);
    const contentType = contentTypeOf(req);
    let body: Params = {};
    let answer: ApiAnswer & { outcome?: RecordedResponse };
    const injected = faults.take('response_url');
    try {
      if (contentType === 'application/x-www-form-urlencoded') {
        const form = parseForm(raw);
        body = typeof form.payload === 'string' ? (JSON.parse(form.payload) as Params) : form;
      } else {
        body = raw.trim() === '' ? {} : (JSON.parse(raw) as Params);
      }
      answer = injected !== undefined ? failureAnswer(injected) : handleResponseUrl(id, body);
    } catch {
      answer = { status: 400, body: { ok: false, error: 'invalid_json' } };
    }
    send(res, {
      status: answer.status ?? 200,
      body: answer.body,
      ...(answer.headers ? { headers: answer.headers } : {}),
    });
    if (answer.outcome !== undefined) {
      responses.push(answer.outcome);
      emitter.emit('response', answer.outcome);
    }
    calls.record({
      method: 'response_url',
      responseId: id,
      httpMethod: req.method ?? 'POST',
      contentType,
      params: body,
      status: answer.status ?? 200,
      response: answer.body,
      ...(injected !== undefined ? { injected } : {}),
    });
  }

  return {
    responses,
    register(id, context) {
      const prev = responseUrls.get(id);
      responseUrls.set(id, { context, uses: prev?.uses ?? 0 });
    },
    handle: handleResponse,
    clear() {
      responseUrls.clear();
      responses.length = 0;
    },
  };
}
