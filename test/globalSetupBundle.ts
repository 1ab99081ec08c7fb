/**
 * vitest globalSetup: bundles workflows/ ONCE per test run; every test's worker loads the same bundle.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { WORKFLOWS_PATH } from '../src/temporal/worker';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Path of the workflow bundle (JavaScript) built once for the run. */
    workflowBundlePath: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rollout-bundle-'));
  const { code } = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietLogger });
  const file = path.join(dir, 'workflows.js');
  await writeFile(file, code);
  project.provide('workflowBundlePath', file);
  return async () => {
    await rm(dir, { recursive: true, force: true });
  };
}

const noop = () => undefined;
const quietLogger = { trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error, log: noop };
