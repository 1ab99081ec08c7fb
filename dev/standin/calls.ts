// The log of every call the stand-in answered (Web API methods and response URL posts), in order.
import type { EventEmitter } from 'node:events';
import { nextEvent } from './events';
import type { RecordedCall } from './types';

export interface CallLog {
  readonly calls: RecordedCall[];
  record(call: Omit<RecordedCall, 'seq' | 'at'>): void;
  /** The first call (already recorded or future) matching; rejects after `timeoutMs`. */
  waitForCall(match: string | ((c: RecordedCall) => boolean), timeoutMs: number): Promise<RecordedCall>;
}

export function createCallLog(emitter: EventEmitter): CallLog {
  const calls: RecordedCall[] = [];
  // Never reset (not even by reset()), so a call's seq stays unique for the stand-in's lifetime.
  let seq = 0;
  return {
    calls,
    record(c) {
      const call: RecordedCall = { seq: ++seq, at: Date.now(), ...c };
      calls.push(call);
      emitter.emit('call', call);
    },
    waitForCall(match, timeoutMs) {
      const pred = typeof match === 'string' ? (c: RecordedCall) => c.method === match : match;
      const already = calls.find(pred);
      if (already !== undefined) return Promise.resolve(already);
      return nextEvent(emitter, 'call', pred, timeoutMs, 'matching call');
    },
  };
}
