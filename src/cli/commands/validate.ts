// `rollout validate <config> [--json]`: loads and checks a config file without touching Temporal.
// --json: `{"ok":true,"file","targets","deployables","warnings"}` or `{"ok":false,"file","problems"}` (exit 1).
import { ConfigError, loadConfigFile } from '../../config/load';
import { EXIT, loadConfigOrReport, out, type CliContext } from '../context';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function validateCommand(ctx: CliContext, file: string, opts: { json?: boolean } = {}): Promise<number> {
  if (opts.json) {
    try {
      const config = loadConfigFile(file, { checkFiles: true });
      out(
        ctx,
        JSON.stringify(
          {
            ok: true,
            file,
            targets: config.targets.length,
            deployables: Object.keys(config.raw.deployables),
            warnings: config.warnings,
          },
          null,
          2,
        ),
      );
      return EXIT.OK;
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      out(ctx, JSON.stringify({ ok: false, file, problems: e.problems }, null, 2));
      return EXIT.FAILED;
    }
  }
  const config = loadConfigOrReport(ctx, file, { checkFiles: true });
  if (!config) return EXIT.FAILED;
  const deployables = Object.keys(config.raw.deployables);
  out(
    ctx,
    `OK: ${plural(config.targets.length, 'target')}, ${plural(deployables.length, 'deployable')} (${deployables.join(', ')})`,
  );
  // Environments: one line per deployable that has them, in lifecycle order (→ = must succeed before).
  for (const [name, d] of Object.entries(config.raw.deployables)) {
    if (!d.environments) continue;
    const envs = Object.keys(d.environments);
    const lifecycle = d.lifecycle ?? [];
    const outside = envs.filter((e) => !lifecycle.includes(e));
    const fourEyes = envs.filter((e) => d.environments?.[e]?.fourEyes);
    out(
      ctx,
      `  ${name}: environments ${envs.join(', ')}` +
        (lifecycle.length > 0 ? `; lifecycle ${lifecycle.join(' → ')}` : '') +
        (outside.length > 0 && lifecycle.length > 0 ? ` (outside it: ${outside.join(', ')})` : '') +
        (fourEyes.length > 0 ? `; four eyes to start in ${fourEyes.join(', ')}` : ''),
    );
  }
  return EXIT.OK;
}
