// `rollout history <deployable> [--json]`: the deployable's releases, newest first (kept by its queue workflow, so
// they outlive Temporal's retention of the rollouts), and the release each target last received.
import { getReleaseHistory } from '../../temporal/deployables';
import { temporalSettings } from '../../temporal/settings';
import { configFileOf, connectWith, EXIT, out, readTemporalSection, type CliContext } from '../context';
import { formatHistory, historyJson } from '../releases';

export async function historyCommand(
  ctx: CliContext,
  deployable: string,
  opts: { json?: boolean; config?: string },
): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings, false);
  try {
    const h = await getReleaseHistory(conn.client, settings.taskQueue, deployable);
    out(ctx, opts.json ? JSON.stringify(historyJson(deployable, h), null, 2) : formatHistory(deployable, h));
    return EXIT.OK;
  } finally {
    await conn.close();
  }
}
