// The embedded dev server's ports: one base port and fixed offsets from it (so a second instance needs only a
// second base), plus free-port probes.
import net from 'node:net';
import { loadEnv } from '../../env';

export const DEFAULT_DEV_PORT_BASE = 17233;
export const DEV_PORT_BASE_ENV = 'ROLLOUT_DEV_PORT_BASE';
/** Offsets from the base port: grpc=base, http=base+10, metrics=base+20, ui=base+1000 (as Temporal's 7233/8233). */
const DEV_PORT_OFFSETS = { grpc: 0, http: 10, metrics: 20, ui: 1000 } as const;

export interface DevServerPorts {
  grpc: number;
  http: number;
  metrics: number;
  /** Undefined when headless. */
  ui?: number;
}

/** A free TCP port on `host` (binds :0 and releases it). */
export function getFreePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ port: 0, host, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close((err) => (err || !port ? reject(err ?? new Error('could not get a port')) : resolve(port)));
    });
  });
}

/** Whether `port` can be bound on `host` right now. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** The dev server's ports for a base port (see DEV_PORT_OFFSETS). */
export function devServerPorts(base: number, ui = true): DevServerPorts {
  return {
    grpc: base + DEV_PORT_OFFSETS.grpc,
    http: base + DEV_PORT_OFFSETS.http,
    metrics: base + DEV_PORT_OFFSETS.metrics,
    ...(ui ? { ui: base + DEV_PORT_OFFSETS.ui } : {}),
  };
}

/**
 * `basePort` if given, else `$ROLLOUT_DEV_PORT_BASE` (as src/env.ts reads and validates it), else 17233. Throws
 * on a nonsensical value. The CLI always passes the base from its Env; the fallback is for callers without one.
 */
export function resolveDevPortBase(basePort?: number): number {
  if (basePort === undefined) return loadEnv().ROLLOUT_DEV_PORT_BASE ?? DEFAULT_DEV_PORT_BASE;
  if (!Number.isInteger(basePort) || basePort < 1024 || basePort + DEV_PORT_OFFSETS.ui > 65535) {
    throw new Error(
      `Invalid dev server base port ${String(basePort)} (${DEV_PORT_BASE_ENV}): need an integer in 1024..64535`,
    );
  }
  return basePort;
}

/**
 * A base port whose base, +10, +20 and +1000 are all free on `host`, chosen at random in 20000..29999 (below
 * Linux's ephemeral range, so clients' outgoing connections do not take them). For tests.
 */
export async function findFreeBasePort(host = '127.0.0.1', attempts = 100): Promise<number> {
  for (let i = 0; i < attempts; i++) {
    const base = 20000 + Math.floor(Math.random() * 9000);
    const ports = Object.values(DEV_PORT_OFFSETS).map((o) => base + o);
    const free = await Promise.all(ports.map((p) => isPortFree(p, host)));
    if (free.every(Boolean)) return base;
  }
  throw new Error(`No free base port found on ${host} after ${attempts} attempts`);
}
