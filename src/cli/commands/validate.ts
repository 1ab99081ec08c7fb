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
  return EXIT.OK;
}
