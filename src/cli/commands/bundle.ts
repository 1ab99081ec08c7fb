// `rollout bundle <file>`: bundles the workflow code once (the image does this at build time), so workers load
// exactly the tested bundle through ROLLOUT_WORKFLOW_BUNDLE instead of running webpack at every start.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOWS_PATH } from '../../temporal/worker';
import { EXIT, out, type CliContext } from '../context';

export async function bundleCommand(ctx: CliContext, file: string): Promise<number> {
  const target = path.resolve(file);
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quiet });
  await mkdir(path.dirname(target), { recursive: true });
  await writeFile(target, code);
  out(ctx, `workflow bundle written to ${target} (${Math.round(code.length / 1024)} KiB)`);
  return EXIT.OK;
}

const noop = () => undefined;
const quiet = { trace: noop, debug: noop, info: noop, warn: noop, error: console.error, log: noop };
