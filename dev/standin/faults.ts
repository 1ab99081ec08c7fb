// Fault injection: failures queued per method (`response_url` for response URL posts) with `failNext`, each
// answering exactly one call instead of the real method.
import type { ApiAnswer } from './protocol';
import type { FailSpec } from './types';

export interface Faults {
  failNext(method: string, spec: FailSpec): void;
  /** The next queued failure of `method`, removed from the queue. */
  take(method: string): FailSpec | undefined;
  clear(): void;
}

export function createFaults(): Faults {
  const queued = new Map<string, FailSpec[]>();
  return {
    failNext(method, spec) {
      const q = queued.get(method) ?? [];
      q.push(spec);
      queued.set(method, q);
    },
    take(method) {
      const q = queued.get(method);
      const f = q?.shift();
      if (q !== undefined && q.length === 0) queued.delete(method);
      return f;
    },
    clear: () => queued.clear(),
  };
}

/** What Slack answers for a failure: 429 with Retry-After, a bare HTTP status, or `{ ok: false, error }`. */
export function failureAnswer(f: FailSpec): ApiAnswer {
  if ('retryAfterSec' in f) {
    return {
      status: 429,
      headers: { 'retry-after': String(f.retryAfterSec) },
      body: { ok: false, error: 'ratelimited' },
    };
  }
  if ('status' in f) return { status: f.status, body: f.body ?? 'Internal Server Error' };
  return { body: { ok: false, error: f.error } };
}
