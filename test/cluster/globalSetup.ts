/**
 * vitest globalSetup of the cluster tests (vitest.cluster.config.ts): the real Temporal server, built from its Go
 * module or reused from `.rollout/temporal-server/<version>/`, on a PostgreSQL cluster of its own (temp data
 * directory, free port), all four services in one process, mTLS required on the frontend, namespace `default`
 * with 30 days of retention. Everything started here is stopped at teardown.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { findOrInstallTemporalCli } from '../../src/temporal/binaries';
import {
  allocateServerPorts,
  createNamespace,
  createSchemas,
  ensureServerBinaries,
  killServerProcess,
  makeCerts,
  startPostgres,
  startServerProcess,
  waitNamespace,
  writeServerConfig,
  type Postgres,
  type ServerSpec,
} from './server';
import { TEMPORAL_SERVER_VERSION } from './version';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The self-hosted Temporal server of the cluster tests (mTLS frontend, namespace `default`). */
    cluster: ServerSpec & { namespace: string; pgPort: number };
  }
}

const REPO = fileURLToPath(new URL('../..', import.meta.url));

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const log = (line: string) => console.log(`[cluster] ${line}`);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-cluster-'));
  let pg: Postgres | undefined;
  let spec: ServerSpec | undefined;
  const teardown = async () => {
    if (spec) await killServerProcess(spec, 'SIGTERM').catch(() => killServerProcess(spec!, 'SIGKILL'));
    await pg?.stop();
    if (!process.env.ROLLOUT_TEST_KEEP) rmSync(dir, { recursive: true, force: true });
  };
  try {
    const t0 = Date.now();
    const used = new Set<number>();
    const [bin, pgStarted, certs, cli] = await Promise.all([
      ensureServerBinaries(TEMPORAL_SERVER_VERSION, path.join(REPO, '.rollout', 'temporal-server'), log),
      startPostgres(dir, used),
      makeCerts(path.join(dir, 'certs')),
      findOrInstallTemporalCli(path.join(REPO, '.rollout')),
    ]);
    pg = pgStarted;
    log(
      `Temporal server ${TEMPORAL_SERVER_VERSION} ${bin.built ? 'built' : 'reused from the cache'} in ${bin.ms} ms (${bin.dir})`,
    );
    await createSchemas(bin, pg.port);
    const ports = await allocateServerPorts(used);
    spec = writeServerConfig(path.join(dir, 'server'), {
      bin: bin.server,
      pgPort: pg.port,
      ports,
      certs,
      logFile: path.join(dir, 'server.log'),
    });
    await startServerProcess(spec);
    await createNamespace(cli, spec, 'default', '30d');
    await waitNamespace(spec, 'default');
    log(
      `PostgreSQL on 127.0.0.1:${pg.port}, Temporal frontend (mTLS) on ${spec.address}, ready in ${Date.now() - t0} ms; state in ${dir}`,
    );
    project.provide('cluster', { ...spec, namespace: 'default', pgPort: pg.port });
  } catch (e) {
    await teardown().catch(() => undefined);
    throw e;
  }
  return teardown;
}
