// Signed requests from Slack carry X-Slack-Request-Timestamp. Bolt refuses one more than five minutes in the
// PAST (a replayed request); one from the future passes its check, so a request signed with a clock set ahead
// (or captured and held) would be accepted for as long as the clock is wrong. This receiver refuses both
// directions before Bolt looks at the request; everything else (signature, body, routing) stays Bolt's.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HTTPReceiver, type HTTPReceiverOptions, type Logger } from '@slack/bolt';

/** Slack's own bound, in either direction. */
export const MAX_REQUEST_AGE_SEC = 5 * 60;

/** Why a request's timestamp header is refused, or undefined when it is within the bound (or absent: Bolt's). */
export function timestampProblem(header: string | string[] | undefined, nowMs: number): string | undefined {
  if (header === undefined) return undefined;
  const raw = Array.isArray(header) ? header[0] : header;
  const sec = Number(raw);
  if (!Number.isFinite(sec)) return 'x-slack-request-timestamp is not a number';
  const skew = sec - nowMs / 1000;
  if (Math.abs(skew) > MAX_REQUEST_AGE_SEC) {
    return `x-slack-request-timestamp is ${Math.round(Math.abs(skew))} s in the ${skew > 0 ? 'future' : 'past'} (limit ${MAX_REQUEST_AGE_SEC} s)`;
  }
  return undefined;
}

export class TimestampCheckedReceiver extends HTTPReceiver {
  constructor(options: HTTPReceiverOptions & { logger: Logger }, now: () => Date = () => new Date()) {
    super(options);
    const bolts = this.requestListener;
    const logger = options.logger;
    this.requestListener = (req: IncomingMessage, res: ServerResponse) => {
      const problem = timestampProblem(req.headers['x-slack-request-timestamp'], now().getTime());
      if (problem) {
        logger.warn(`rollout bot: refused a request to ${req.url ?? '?'}: ${problem}`);
        res.writeHead(401).end();
        req.resume();
        return;
      }
      bolts(req, res);
    };
  }
}
