// The stand-in's event bus: the public events (StandinEvents) plus `socketOpen` (a Socket Mode connection said
// hello), and waiting for the first event that matches.
import { EventEmitter } from 'node:events';

export function createEmitter(): EventEmitter {
  const emitter = new EventEmitter();
  // Tests and the console subscribe freely; no listener limit.
  emitter.setMaxListeners(0);
  return emitter;
}

/** Resolves with the first `event` whose argument `accept`s; rejects with `slack stand-in: no <what> within <t> ms`. */
export function nextEvent<T>(
  emitter: EventEmitter,
  event: string,
  accept: (arg: T) => boolean,
  timeoutMs: number,
  what: string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`slack stand-in: no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (arg: T) => {
      if (!accept(arg)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(arg);
    };
    emitter.on(event, listener);
  });
}
