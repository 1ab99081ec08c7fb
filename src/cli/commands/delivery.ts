// Printing a Delivery (cancel, decide) so that the three outcomes cannot be confused; exit 0 / 1 / 3.
import type { Delivery } from '../../temporal/client';
import { err, EXIT, out, type CliContext } from '../context';

/**
 * With `json`, one object on stdout whatever the outcome (the exit code still tells them apart):
 * `{"outcome":"accepted","result":{…}}`, `{"outcome":"rejected","reason":"…"}`, `{"outcome":"undelivered","reason":"…"}`.
 */
export function reportDelivery<T>(
  ctx: CliContext,
  what: string,
  d: Delivery<T>,
  accepted: (result: T) => string,
  json = false,
): number {
  const code = d.outcome === 'accepted' ? EXIT.OK : d.outcome === 'rejected' ? EXIT.FAILED : EXIT.UNDELIVERED;
  if (json) {
    out(
      ctx,
      JSON.stringify(
        d.outcome === 'accepted' ? { outcome: d.outcome, result: d.result } : { outcome: d.outcome, reason: d.reason },
        null,
        2,
      ),
    );
    return code;
  }
  switch (d.outcome) {
    case 'accepted':
      out(ctx, `accepted: ${accepted(d.result)}`);
      return EXIT.OK;
    case 'rejected':
      err(ctx, `rejected: the rollout refused the ${what}: ${d.reason}`);
      return EXIT.FAILED;
    case 'undelivered':
      err(
        ctx,
        /nothing has changed/i.test(d.reason)
          ? `not delivered: ${d.reason}`
          : `not delivered: the ${what} was not confirmed by the rollout; nothing has changed yet, try again (${d.reason})`,
      );
      return EXIT.UNDELIVERED;
  }
}

/** `--timeout <seconds>` → milliseconds. */
export function timeoutMs(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : Math.round(seconds * 1000);
}
