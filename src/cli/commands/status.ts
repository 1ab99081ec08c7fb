// `rollout status <id> [--target <name>] [--json]`: a rollout's summary, or one target's detail.
import { configFileOf, connectWith, err, EXIT, out, readTemporalSection, type CliContext } from '../context';
import { temporalSettings } from '../../temporal/settings';
import { formatSummary, formatTarget } from '../format';
import { fetchSummary, fetchTarget } from '../rolloutState';

export interface StatusCommandOptions {
  target?: string;
  json?: boolean;
  config?: string;
}

export async function statusCommand(ctx: CliContext, rolloutId: string, opts: StatusCommandOptions): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings);
  try {
    if (opts.target !== undefined) {
      const r = await fetchTarget(conn.client, rolloutId, opts.target);
      if ('error' in r) {
        err(ctx, `rollout: ${r.error}`);
        return EXIT.FAILED;
      }
      const t = r.page.targets[0];
      if (!t) {
        err(ctx, `rollout: ${rolloutId} has no target "${opts.target}"`);
        return EXIT.FAILED;
      }
      out(ctx, opts.json ? JSON.stringify(t, null, 2) : formatTarget(rolloutId, t));
      return EXIT.OK;
    }

    const r = await fetchSummary(conn.client, rolloutId);
    if (r.kind === 'missing') {
      err(ctx, `rollout: ${r.reason}`);
      return EXIT.FAILED;
    }
    if (r.kind === 'unavailable') {
      if (opts.json)
        out(ctx, JSON.stringify({ rolloutId, temporalStatus: r.temporalStatus, error: r.reason }, null, 2));
      else out(ctx, `${rolloutId}: workflow ${r.temporalStatus.toLowerCase()}; no summary: ${r.reason}`);
      return EXIT.FAILED;
    }
    out(ctx, opts.json ? JSON.stringify(r.summary, null, 2) : formatSummary(r.summary));
    return EXIT.OK;
  } finally {
    await conn.close();
  }
}
