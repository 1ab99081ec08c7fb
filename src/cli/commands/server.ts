// `rollout server start|stop|status`: the embedded Temporal dev server in ROLLOUT_STATE_DIR, managed explicitly
// (other commands start it on demand when TEMPORAL_ADDRESS is unset).
import path from 'node:path';
import {
  DEFAULT_DEV_PORT_BASE,
  devServerAnswers,
  ensureDevServer,
  isPidAlive,
  readDevServerRecord,
  stopDevServer,
} from '../../temporal/devServer';
import { err, EXIT, out, type CliContext } from '../context';

export type ServerAction = 'start' | 'stop' | 'status';

function noteExternal(ctx: CliContext): void {
  if (ctx.env.TEMPORAL_ADDRESS) {
    err(
      ctx,
      `rollout: note: TEMPORAL_ADDRESS=${ctx.env.TEMPORAL_ADDRESS} is set, so other commands use that server, not this one`,
    );
  }
}

export async function serverCommand(ctx: CliContext, action: ServerAction): Promise<number> {
  const stateDir = path.resolve(ctx.env.ROLLOUT_STATE_DIR);
  switch (action) {
    case 'start': {
      noteExternal(ctx);
      const s = await ensureDevServer({
        stateDir,
        basePort: ctx.env.ROLLOUT_DEV_PORT_BASE ?? DEFAULT_DEV_PORT_BASE,
        ui: true,
        namespace: ctx.env.TEMPORAL_NAMESPACE,
      });
      out(
        ctx,
        `Temporal dev server ${s.reused ? 'already running' : 'started'} at ${s.address}${s.uiUrl ? ` (UI ${s.uiUrl})` : ''}, ` +
          `pid ${s.pid}, state in ${stateDir}`,
      );
      return EXIT.OK;
    }
    case 'stop': {
      const stopped = await stopDevServer(stateDir);
      out(
        ctx,
        stopped
          ? `Temporal dev server stopped (state in ${stateDir})`
          : `no Temporal dev server was running (state in ${stateDir})`,
      );
      return EXIT.OK;
    }
    case 'status': {
      const rec = await readDevServerRecord(stateDir);
      if (!rec || !isPidAlive(rec.pid)) {
        out(ctx, `Temporal dev server not running (state in ${stateDir})`);
        return EXIT.FAILED;
      }
      const answers = await devServerAnswers(rec.address, rec.namespace);
      out(
        ctx,
        `Temporal dev server ${answers ? 'running' : 'NOT answering'} at ${rec.address}${rec.uiUrl ? ` (UI ${rec.uiUrl})` : ''}, ` +
          `pid ${rec.pid}, since ${rec.startedAt}, state in ${stateDir}`,
      );
      noteExternal(ctx);
      return answers ? EXIT.OK : EXIT.FAILED;
    }
  }
}
