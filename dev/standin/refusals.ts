// What the stand-in refuses as Slack would (Block Kit and text limits, see blockKit.ts): each refusal is
// recorded, announced and thrown as the error Slack would answer with.
import type { EventEmitter } from 'node:events';
import { validateMessage } from './blockKit';
import { SlackApiError, type Params } from './protocol';
import type { Refusal } from './types';

export interface Refusals {
  readonly refusals: Refusal[];
  /** Records the refusal and throws its SlackApiError; `error` defaults to the one Slack picks for `problems`. */
  refuse(method: string, params: Params, problems: string[], error?: string): never;
  /** Refuses a message Slack would not post. */
  checkMessage(method: string, params: Params, text: unknown, blocks: unknown): void;
}

export function createRefusals(emitter: EventEmitter): Refusals {
  const refusals: Refusal[] = [];
  const refuse = (method: string, params: Params, problems: string[], error?: string): never => {
    const err =
      error ??
      (problems.some((p) => p.startsWith('message: needs'))
        ? 'no_text'
        : problems.every((p) => p.startsWith('text:'))
          ? 'msg_too_long'
          : 'invalid_blocks');
    const refusal: Refusal = { at: Date.now(), method, error: err, problems, params };
    refusals.push(refusal);
    emitter.emit('refusal', refusal);
    throw new SlackApiError(err, {
      errors: problems,
      response_metadata: { messages: problems.map((p) => `[ERROR] ${p}`) },
    });
  };
  return {
    refusals,
    refuse,
    checkMessage(method, params, text, blocks) {
      const problems = validateMessage({ text, blocks });
      if (problems.length > 0) refuse(method, params, problems);
    },
  };
}
