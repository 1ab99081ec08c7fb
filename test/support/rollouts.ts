// Helpers for engine tests: a config built around fixture targets, a worker with real transports, and files
// read back from the targets' workdirs (the targets are on this machine, so their workdirs are local paths).
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateConfig, type Config } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { LocalTransport } from '../../activities/transports/local';
import { SshTransport } from '../../activities/transports/ssh';
import type { ActivityDeps } from '../../activities';
import type { RolloutPlan, TargetPlan } from '../../domain/plan';
import { startSshd, type SshdFixture } from './sshd';
import { temporalTestEnv, type TemporalTestEnv } from './temporal';

/** A config whose targets are the given fixture targets (as declared, in order), plus the given deployables. */
export function configFor(
  targets: TargetPlan[],
  deployables: Record<string, unknown>,
  extra: Record<string, unknown> = {},
): Config {
  const cfg = validateConfig(
    {
      targets: Object.fromEntries(
        targets.map((t) => [
          t.name,
          {
            transport: t.transport,
            ...(t.transport === 'ssh'
              ? {
                  host: t.host,
                  port: t.port,
                  user: t.user,
                  privateKeyPath: t.privateKeyPath,
                  knownHostsPath: t.knownHostsPath,
                }
              : {}),
            tags: t.tags.length ? t.tags : ['web'],
            workdir: t.workdir,
            variables: t.variables,
          },
        ]),
      ),
      deployables,
      ...extra,
    },
    'test-config',
    '/',
  );
  return cfg;
}

export function planFor(
  cfg: Config,
  deployable: string,
  release = 'v2',
  requestedBy = 'U_ALICE',
  variables?: Record<string, string>,
): RolloutPlan {
  return buildPlan(cfg, { deployable, release, requestedBy, ...(variables ? { variables } : {}) });
}

export function realTransports(): ActivityDeps & { close(): Promise<void> } {
  const ssh = new SshTransport();
  const local = new LocalTransport();
  return {
    transports: { ssh, local },
    async close() {
      await ssh.close();
      await local.close();
    },
  };
}

export function readTargetFile(t: TargetPlan, file: string): string | undefined {
  const p = path.join(t.workdir, file);
  return existsSync(p) ? readFileSync(p, 'utf8') : undefined;
}

/** Lines `start <name> <epoch>` / `end <name> <epoch>` that scripts append to their timeline file. */
export function timeline(t: TargetPlan, file = 'timeline'): { start?: number; end?: number } {
  const out: { start?: number; end?: number } = {};
  for (const line of (readTargetFile(t, file) ?? '').split('\n')) {
    const [kind, , at] = line.split(' ');
    if (kind === 'start' || kind === 'end') out[kind] = Number(at);
  }
  return out;
}

/** What engine test files share: real sshd targets, a Temporal test env and one in-process worker. */
export interface EngineFixture {
  sshd: SshdFixture;
  env: TemporalTestEnv;
  close(): Promise<void>;
}

export async function startEngineFixture(o: {
  count: number;
  baseAddress: string;
  queuePrefix: string;
}): Promise<EngineFixture> {
  const sshd = await startSshd({ count: o.count, baseAddress: o.baseAddress, namePrefix: 'web' });
  const env = await temporalTestEnv(o.queuePrefix);
  const transports = realTransports();
  await env.startWorker(transports);
  return {
    sshd,
    env,
    async close() {
      await env.close();
      await transports.close();
      await sshd.stop();
    },
  };
}

/** `n` targets on the local transport (tag `web`), each with its own workdir under a fresh temp directory. */
export function localTargets(n: number, o: { dirPrefix: string; namePrefix?: string }): TargetPlan[] {
  const dir = mkdtempSync(path.join(os.tmpdir(), o.dirPrefix));
  const prefix = o.namePrefix ?? 'app';
  return Array.from({ length: n }, (_, i) => ({
    name: `${prefix}${i + 1}`,
    transport: 'local' as const,
    host: 'localhost',
    port: 22,
    user: '',
    tags: ['web'],
    workdir: path.join(dir, `${prefix}${i + 1}`),
    strictHostKeyChecking: true,
    variables: {},
  }));
}
