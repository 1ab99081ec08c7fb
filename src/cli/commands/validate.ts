// `rollout validate <config>`: loads and checks a config file without touching Temporal.
import { EXIT, loadConfigOrReport, out, type CliContext } from '../context';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export async function validateCommand(ctx: CliContext, file: string): Promise<number> {
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
