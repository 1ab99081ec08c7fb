// Health endpoints for orchestrators (compose healthchecks, Kubernetes probes): `/healthz` answers 200 while the
// process is up; `/readyz` answers 200 only while every readiness check passes (connected to Temporal, the
// worker running, the bot's receiver started), else 503 with what failed. Both answer JSON.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CheckResult {
  ok: boolean;
  /** Why not (or a short fact when ok). */
  detail?: string;
}

/** Named checks, each run on every /readyz request. */
export type ReadinessChecks = Record<string, () => CheckResult | Promise<CheckResult>>;

/** How long one check may take before it counts as failed (a probe's timeout is typically a few seconds). */
export const CHECK_TIMEOUT_MS = 2_000;

async function runCheck(check: () => CheckResult | Promise<CheckResult>): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(check),
      new Promise<CheckResult>((resolve) => {
        timer = setTimeout(
          () => resolve({ ok: false, detail: `no answer in ${CHECK_TIMEOUT_MS} ms` }),
          CHECK_TIMEOUT_MS,
        );
      }),
    ]);
  } catch (e) {
    return { ok: false, detail: (e as Error)?.message ?? String(e) };
  } finally {
    clearTimeout(timer);
  }
}

export async function readiness(
  checks: ReadinessChecks,
): Promise<{ ready: boolean; checks: Record<string, CheckResult> }> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => runCheck(checks[n] as () => CheckResult)));
  const byName = Object.fromEntries(names.map((n, i) => [n, results[i] as CheckResult]));
  return { ready: results.every((r) => r.ok), checks: byName };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${JSON.stringify(body)}\n`);
}

export const HEALTH_PATH = '/healthz';
export const READY_PATH = '/readyz';

/** The two handlers, for a server of one's own or Bolt's `customRoutes`. */
export function healthHandlers(checks: ReadinessChecks) {
  return {
    healthz(_req: IncomingMessage, res: ServerResponse): void {
      send(res, 200, { status: 'ok' });
    },
    async readyz(_req: IncomingMessage, res: ServerResponse): Promise<void> {
      const r = await readiness(checks);
      send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', checks: r.checks });
    },
  };
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz and /readyz on `port` (0: any free port), all interfaces unless `host` is given. */
export function serveHealth(o: { port: number; host?: string; checks: ReadinessChecks }): Promise<HealthServer> {
  const h = healthHandlers(o.checks);
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://health').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'GET only' });
    if (path === HEALTH_PATH) return h.healthz(req, res);
    if (path === READY_PATH) return void h.readyz(req, res);
    send(res, 404, { error: `not found: try ${HEALTH_PATH} or ${READY_PATH}` });
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: Error) =>
      reject(new Error(`cannot serve health endpoints on port ${o.port}: ${e.message}`)),
    );
    server.listen(o.port, o.host, () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((r) => {
            server.close(() => r());
            server.closeAllConnections();
          }),
      });
    });
  });
}

/** What a readiness check needs of a Temporal connection (a worker's NativeConnection, or a client Connection). */
export interface TemporalReachable {
  workflowService: { getSystemInfo(request: object): Promise<unknown> };
  withDeadline<T>(deadline: number | Date, fn: () => Promise<T>): Promise<T>;
}

/**
 * Temporal answers (GetSystemInfo: cheap, allowed for every client, Temporal Cloud included). Prefer a worker's
 * NativeConnection: the client Connection's retry interceptor keeps retrying an unanswered call on its own
 * timers, past the deadline and even past the connection's close.
 */
export function temporalCheck(connection: TemporalReachable, address: string): () => Promise<CheckResult> {
  // A little under the check's own limit, so that the answer names the address.
  const limitMs = CHECK_TIMEOUT_MS - 250;
  return async () => {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        connection.withDeadline(Date.now() + limitMs, () => connection.workflowService.getSystemInfo({})),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer in ${limitMs} ms`)), limitMs);
        }),
      ]);
      return { ok: true, detail: address };
    } catch (e) {
      return { ok: false, detail: `Temporal at ${address} does not answer: ${(e as Error)?.message ?? String(e)}` };
    } finally {
      clearTimeout(timer);
    }
  };
}
