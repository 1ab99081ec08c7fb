// `rollout list [--json]`: per deployable, what runs, what waits in its queue, its lock and its recent rollouts.
import { listDeployables } from '../../temporal/deployables';
import { temporalSettings } from '../../temporal/settings';
import { configFileOf, connectWith, EXIT, out, readTemporalSection, type CliContext } from '../context';
import { formatList, listJson } from '../releases';

export async function listCommand(ctx: CliContext, opts: { json?: boolean; config?: string }): Promise<number> {
  const settings = temporalSettings(ctx.env, readTemporalSection(ctx, configFileOf(ctx, opts.config)));
  const conn = await connectWith(ctx, settings, false);
  try {
    const states = await listDeployables(conn.client, settings.taskQueue);
    out(ctx, opts.json ? JSON.stringify(listJson(states), null, 2) : formatList(states));
    return EXIT.OK;
  } finally {
    await conn.close();
  }
}
