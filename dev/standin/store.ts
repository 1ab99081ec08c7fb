// The message store: every channel's messages in post order (thread replies and ephemerals included), with
// Slack's ts values, thread bookkeeping (reply counts, replies to a reply go to the root) and edit history.
import type { EventEmitter } from 'node:events';
import type { MessageChange, StandinMessage } from './types';

export interface PostBody {
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  metadata?: unknown;
  reply_broadcast?: boolean;
}

export interface PostExtra {
  /** Set for an ephemeral message: the only user who sees it. */
  ephemeralUser?: string;
  source: StandinMessage['source'];
  /** The author when not the bot (a human's message: no bot_id). */
  user?: string;
}

export interface MessageStore {
  /** channel id → messages in post order. */
  readonly messages: Map<string, StandinMessage[]>;
  /** One message by channel and ts; `ephemeral` narrows to (non-)ephemeral ones. */
  find(channel: string, ts: string, opts?: { ephemeral?: boolean }): StandinMessage | undefined;
  /** Parent and replies of a thread, in order. */
  thread(channel: string, threadTs: string): StandinMessage[];
  post(channel: string, body: PostBody, extra: PostExtra): StandinMessage;
  /** Replaces text and/or blocks (undefined keeps the field), keeping the previous version in `history`. */
  edit(m: StandinMessage, text: string | undefined, blocks: unknown[] | undefined, by: string): void;
  remove(m: StandinMessage): void;
}

export function createMessageStore(bot: { user_id: string; bot_id: string }, emitter: EventEmitter): MessageStore {
  const messages = new Map<string, StandinMessage[]>();
  let lastMicros = 0;

  /** A Slack ts (`<seconds>.<microseconds>`), strictly increasing even within one millisecond. */
  function nextTs(): string {
    lastMicros = Math.max(Date.now() * 1000, lastMicros + 1);
    return `${Math.floor(lastMicros / 1e6)}.${String(lastMicros % 1e6).padStart(6, '0')}`;
  }

  function list(channel: string): StandinMessage[] {
    let l = messages.get(channel);
    if (l === undefined) {
      l = [];
      messages.set(channel, l);
    }
    return l;
  }

  function find(channel: string, ts: string, opts: { ephemeral?: boolean } = {}): StandinMessage | undefined {
    return messages
      .get(channel)
      ?.find((m) => m.ts === ts && (opts.ephemeral === undefined || m.ephemeral === opts.ephemeral));
  }

  return {
    messages,
    find,
    thread: (channel, threadTs) =>
      (messages.get(channel) ?? []).filter((m) => m.ts === threadTs || m.thread_ts === threadTs),
    post(channel, body, extra) {
      let threadTs = body.thread_ts;
      if (threadTs !== undefined) {
        const parent = find(channel, threadTs, { ephemeral: false });
        if (parent?.thread_ts !== undefined && parent.thread_ts !== parent.ts) threadTs = parent.thread_ts;
        const root = find(channel, threadTs, { ephemeral: false });
        if (root !== undefined && extra.ephemeralUser === undefined) {
          root.thread_ts ??= root.ts;
          root.reply_count = (root.reply_count ?? 0) + 1;
        }
      }
      const m: StandinMessage = {
        channel,
        ts: nextTs(),
        ...(threadTs !== undefined ? { thread_ts: threadTs } : {}),
        ...(body.text !== undefined ? { text: body.text } : {}),
        ...(body.blocks !== undefined ? { blocks: body.blocks } : {}),
        user: extra.user ?? bot.user_id,
        ...(extra.user === undefined ? { bot_id: bot.bot_id } : {}),
        ephemeral: extra.ephemeralUser !== undefined,
        ...(extra.ephemeralUser !== undefined ? { ephemeralUser: extra.ephemeralUser } : {}),
        source: extra.source,
        history: [],
        ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
        ...(body.reply_broadcast ? { reply_broadcast: true } : {}),
      };
      list(channel).push(m);
      emitter.emit('message', { kind: 'posted', message: m } satisfies MessageChange);
      return m;
    },
    edit(m, text, blocks, by) {
      const replacedAt = nextTs();
      m.history.push({
        ...(m.text !== undefined ? { text: m.text } : {}),
        ...(m.blocks !== undefined ? { blocks: m.blocks } : {}),
        replacedAt,
      });
      if (text !== undefined) m.text = text;
      if (blocks !== undefined) m.blocks = blocks;
      m.edited = { user: by, ts: replacedAt };
      emitter.emit('message', { kind: 'updated', message: m } satisfies MessageChange);
    },
    remove(m) {
      const l = messages.get(m.channel);
      const i = l?.indexOf(m) ?? -1;
      if (l !== undefined && i >= 0) l.splice(i, 1);
      emitter.emit('message', { kind: 'deleted', message: m } satisfies MessageChange);
    },
  };
}
