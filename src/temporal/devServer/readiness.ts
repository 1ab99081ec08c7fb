// Is the dev server up? Its TCP port open and its gRPC frontend answering describeNamespace, once or polled.
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection } from '@temporalio/client';

async function tcpOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host, port });
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function splitAddress(address: string): { host: string; port: number } {
  const i = address.lastIndexOf(':');
  return { host: address.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(address.slice(i + 1)) };
}

/** One attempt: does the frontend at `address` answer describeNamespace(namespace)? */
export async function devServerAnswers(address: string, namespace = 'default', timeoutMs = 3000): Promise<boolean> {
  const { host, port } = splitAddress(address);
  // A closed port fails fast here, without a gRPC connect timeout.
  if (!(await tcpOpen(host, port, Math.min(timeoutMs, 1000)))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    await connection.withDeadline(Date.now() + timeoutMs, () =>
      connection!.workflowService.describeNamespace({ namespace }),
    );
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close().catch(() => undefined);
  }
}

/**
 * Polls until the frontend answers or `timeoutMs` passes. `abort` is checked between attempts and may return a
 * reason to give up early (e.g. the process exited). Returns undefined on success, else the reason.
 */
export async function waitUntilAnswering(
  address: string,
  namespace: string,
  timeoutMs: number,
  abort: () => string | undefined,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const why = abort();
    if (why) return why;
    const left = deadline - Date.now();
    if (left <= 0) return `no answer from ${address} within ${Math.round(timeoutMs / 1000)} s`;
    // Each attempt gets what is left, but at least 500 ms and at most 3 s.
    if (await devServerAnswers(address, namespace, Math.max(500, Math.min(3000, left)))) return undefined;
    const whyAfter = abort();
    if (whyAfter) return whyAfter;
    await sleep(100);
  }
}
