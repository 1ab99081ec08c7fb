// The harness's HTTP servers (Slack stand-in, local console): create one, listen on a loopback port, know its
// URL, and close it without waiting for idle keep-alive or event-stream connections.
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HttpServeOptions {
  /** Default 0: any free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
}

export interface LocalHttpServer {
  server: Server;
  port: number;
  /** `http://host:port` (an IPv6 host in brackets), no trailing slash. */
  origin: string;
  /** Stops listening and drops every open connection. */
  close(): Promise<void>;
}

export async function serveHttp(handler: RequestListener, options: HttpServeOptions = {}): Promise<LocalHttpServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    origin: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
