// Keeps every running rollout's root message current without workflow activities: every tick it lists the
// running rollout workflows (visibility), queries each summary, renders the root message and calls chat.update
// only when the rendering changed. chat.update is limited per workspace, so ONE token bucket serves all
// rollouts, taken round-robin so that with many rollouts every one gets its turn; a 429 pauses everything for
// its Retry-After. Nothing here is state that matters: after a restart the next tick finds everything again.
// A rollout's final rendering carries a Roll back button when its deployable has an earlier release that succeeded.
import type { Logger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Client } from '@temporalio/client';
import { rootMessage } from '../../activities/slack/blocks';
import { previousRelease } from '../../domain/releases';
import { getSummary } from '../temporal/client';
import { getReleaseHistory } from '../temporal/deployables';
import type { RolloutSummary } from '../../workflows/messages';
import { listRunningRollouts } from './rollouts';

export interface RootUpdaterOptions {
  client: Client;
  /** Should not retry on its own (rejectRateLimitedCalls, no retries): the updater owns pacing. */
  web: WebClient;
  /** Only rollouts on this task queue (the bot's own); default all. */
  taskQueue?: string;
  temporalUiUrl?: string;
  /** The namespace of the rollouts, for the UI link (default: the client's). */
  temporalNamespace?: string;
  logger?: Logger;
  /** How often running rollouts are looked at. Default 1000 ms. */
  intervalMs?: number;
  /** chat.update budget for the whole workspace. Default 50 a minute (Tier 3), bursts of 10. */
  ratePerMinute?: number;
  burst?: number;
  now?: () => Date;
  /** Bounds each summary query (queries need a worker). Default 3000 ms. */
  queryTimeoutMs?: number;
  /** A root whose only change is the elapsed time is refreshed this often. Default 30 000 ms. */
  refreshMs?: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;
  private pausedUntil = 0;
  constructor(
    private readonly perMs: number,
    private readonly capacity: number,
    private readonly clock: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.last = clock();
  }
  private refill(): void {
    const t = this.clock();
    // Nothing accrues during a pause (`last` is moved to its end).
    if (t <= this.last) return;
    this.tokens = Math.min(this.capacity, this.tokens + (t - this.last) * this.perMs);
    this.last = t;
  }
  /** Takes a token if one is there (and no Retry-After pause is in force). */
  tryTake(): boolean {
    this.refill();
    if (this.clock() < this.pausedUntil || this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
  /** Gives back a token taken for nothing (the rendering had not changed after all). */
  giveBack(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }
  /** Slack said 429: nothing is sent until `ms` from now, and the bucket starts empty after it. */
  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.clock() + ms);
    this.tokens = 0;
    this.last = Math.max(this.last, this.pausedUntil);
  }
  get pausedMs(): number {
    return Math.max(0, this.pausedUntil - this.clock());
  }
}

interface Known {
  channel: string;
  ts: string;
  /** Last rendering sent (or seen sent) for this root, without the clock. */
  rendered?: string;
  sentAt?: number;
}

export interface RootUpdater {
  start(): void;
  stop(): Promise<void>;
  /** One pass (tests and start-up). */
  tick(): Promise<void>;
  readonly bucket: TokenBucket;
  /** chat.update calls made, 429s seen. */
  readonly stats: { updates: number; rateLimited: number; errors: number };
}

export function createRootUpdater(o: RootUpdaterOptions): RootUpdater {
  const intervalMs = o.intervalMs ?? 1000;
  const perMinute = o.ratePerMinute ?? 50;
  const bucket = new TokenBucket(perMinute / 60_000, o.burst ?? 10);
  const now = o.now ?? (() => new Date());
  const queryTimeoutMs = o.queryTimeoutMs ?? 3000;
  const known = new Map<string, Known>();
  const stats = { updates: 0, rateLimited: 0, errors: 0 };
  // Rollouts that stopped running since the last pass get one closing look (their final rendering).
  const closing = new Set<string>();
  let cursor = 0;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;

  const refreshMs = o.refreshMs ?? 30_000;
  const render = (s: RolloutSummary, rollbackTo: string | undefined) => {
    const opts = {
      showCancel: true,
      showSteering: true,
      temporalNamespace: o.temporalNamespace ?? o.client.options.namespace,
      ...(o.temporalUiUrl ? { temporalUiUrl: o.temporalUiUrl } : {}),
      ...(rollbackTo !== undefined ? { rollbackTo } : {}),
    };
    const m = rootMessage(s, { now: now(), ...opts });
    // The elapsed time alone changes every second: it does not count as a change (see refreshMs).
    const key = JSON.stringify(rootMessage(s, { now: new Date(s.startedAt), ...opts }));
    return { m, key };
  };

  /** Returns false when the pass should stop (out of tokens or paused). */
  async function visit(id: string): Promise<boolean> {
    if (bucket.pausedMs > 0) return false;
    let s: RolloutSummary;
    try {
      s = await o.client.withDeadline(Date.now() + queryTimeoutMs, () => getSummary(o.client, id));
    } catch {
      return true; // no worker right now, or gone: try again next pass
    }
    if (!s.slack) return true;
    let k = known.get(id);
    if (!k || k.ts !== s.slack.ts) {
      k = { channel: s.slack.channel, ts: s.slack.ts };
      known.set(id, k);
    }
    const { m, key } = render(s, s.status === 'running' ? undefined : await rollbackTo(s));
    if (key === k.rendered && (s.status !== 'running' || Date.now() - (k.sentAt ?? 0) < refreshMs)) return true;
    if (!bucket.tryTake()) return false;
    try {
      await o.web.chat.update({ channel: k.channel, ts: k.ts, text: m.text, blocks: m.blocks });
      k.rendered = key;
      k.sentAt = Date.now();
      stats.updates++;
    } catch (e) {
      const err = e as { code?: string; retryAfter?: number; data?: { error?: string } };
      if (err.code === 'slack_webapi_rate_limited_error' || err.data?.error === 'ratelimited') {
        stats.rateLimited++;
        bucket.pause(((err.retryAfter ?? 1) * 1000) | 0);
        o.logger?.warn(`rollout bot: chat.update rate limited; pausing root updates for ${err.retryAfter ?? 1}s`);
        return false;
      }
      stats.errors++;
      if (err.data?.error === 'message_not_found' || err.data?.error === 'channel_not_found') k.rendered = key;
      o.logger?.warn({ rolloutId: id }, `rollout bot: updating the root of ${id} failed: ${(e as Error).message}`);
    }
    return true;
  }

  /** The release a finished rollout's Roll back button restores: the last that succeeded before it, if any. */
  async function rollbackTo(s: RolloutSummary): Promise<string | undefined> {
    const taskQueue = o.taskQueue;
    if (!taskQueue) return undefined;
    try {
      const h = await o.client.withDeadline(Date.now() + queryTimeoutMs, () =>
        getReleaseHistory(o.client, taskQueue, s.deployable),
      );
      return h ? previousRelease(h.releases, s.rolloutId, s.release)?.release : undefined;
    } catch {
      return undefined; // no worker to ask: the final rendering goes without the button
    }
  }

  async function tick(): Promise<void> {
    let ids: string[];
    try {
      ids = await listRunningRollouts(o.client, 1000, o.taskQueue);
    } catch (e) {
      o.logger?.warn(`rollout bot: listing running rollouts failed: ${(e as Error).message}`);
      return;
    }
    const live = new Set(ids);
    for (const id of known.keys()) if (!live.has(id)) closing.add(id);
    // Closing looks first (they are few and final), then the running ones round-robin from the cursor.
    for (const id of [...closing]) {
      if (!(await visit(id))) return;
      closing.delete(id);
      known.delete(id);
    }
    if (ids.length === 0) return;
    ids.sort();
    const start = cursor % ids.length;
    for (let i = 0; i < ids.length; i++) {
      const idx = (start + i) % ids.length;
      if (!(await visit(ids[idx]!))) {
        cursor = idx; // this one goes first next time
        return;
      }
    }
    cursor = start + 1;
  }

  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((e: unknown) => o.logger?.error(`rollout bot: root updater: ${String(e)}`))
      .finally(() => {
        running = undefined;
        if (!stopped) timer = setTimeout(loop, Math.max(intervalMs, bucket.pausedMs));
      });
  };

  return {
    bucket,
    stats,
    tick,
    start() {
      stopped = false;
      loop();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}
