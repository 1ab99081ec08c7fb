// One way for every command (and later the bot) to reach Temporal: TEMPORAL_ADDRESS when set, otherwise the
// embedded dev server in the state dir (started on first use, reused afterwards, every port explicit).
// A remote frontend is reached with Temporal's standard client configuration (TLS, mTLS, API key, headers; see
// settings.ts), so Temporal Cloud and a self-hosted server with TLS need no code change.
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type { Env } from '../env';
import { DEFAULT_DEV_PORT_BASE, ensureDevServer } from './devServer';
import { temporalClientProfile, type TemporalConnectionExtras } from './settings';

export interface ConnectOptions {
  /** Serve the dev server's Web UI (only matters for the embedded server). Default true. */
  ui?: boolean;
  /** Overrides TEMPORAL_ADDRESS (e.g. from the config file's `temporal.address`). */
  address?: string;
  /** Overrides TEMPORAL_NAMESPACE. */
  namespace?: string;
  /** Where the one-line notice about the embedded server goes. Default process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** How long connecting may take. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface TemporalConnection {
  address: string;
  namespace: string;
  client: Client;
  /** A worker connection, opened on first call (and closed by close()). */
  nativeConnection(): Promise<NativeConnection>;
  /** The embedded dev server's Web UI, when one is used. */
  uiUrl?: string;
  /** True when the embedded dev server is used. */
  embedded: boolean;
  /** True when this call started the embedded dev server (rather than reusing a running one). */
  startedEmbedded: boolean;
  close(): Promise<void>;
}

export async function connectTemporal(env: Env, opts: ConnectOptions = {}): Promise<TemporalConnection> {
  const stderr = opts.stderr ?? process.stderr;
  const profile = temporalClientProfile(env);
  const namespace = opts.namespace ?? profile.namespace ?? env.TEMPORAL_NAMESPACE;
  let address = opts.address ?? profile.address;
  // TLS, API key and headers only apply to a frontend given by address (the embedded dev server has none).
  const extras: TemporalConnectionExtras = address === undefined ? {} : profile.connection;
  let uiUrl: string | undefined;
  const embedded = address === undefined;
  let startedEmbedded = false;
  if (address === undefined) {
    const stateDir = path.resolve(env.ROLLOUT_STATE_DIR);
    const server = await ensureDevServer({
      stateDir,
      basePort: env.ROLLOUT_DEV_PORT_BASE ?? DEFAULT_DEV_PORT_BASE,
      ui: opts.ui ?? true,
      namespace,
    });
    address = server.address;
    uiUrl = server.uiUrl;
    startedEmbedded = !server.reused;
    stderr.write(
      `rollout: TEMPORAL_ADDRESS is not set; ${server.reused ? 'using' : 'started'} the embedded Temporal dev server at ` +
        `${address}${uiUrl ? ` (UI ${uiUrl})` : ''}, pid ${server.pid}, state in ${stateDir}\n`,
    );
  }
  const connection = await Connection.connect({
    ...extras,
    address,
    connectTimeout: opts.connectTimeoutMs ?? 10_000,
  }).catch((e: Error) => {
    throw new Error(`cannot connect to Temporal at ${address}: ${e.message}`);
  });
  const client = new Client({ connection, namespace });
  let native: Promise<NativeConnection> | undefined;
  const finalAddress = address;
  return {
    address: finalAddress,
    namespace,
    client,
    embedded,
    startedEmbedded,
    ...(uiUrl ? { uiUrl } : {}),
    nativeConnection() {
      // Loaded lazily: the worker package pulls in the native core, which read-only commands do not need.
      native ??= import('@temporalio/worker').then(({ NativeConnection: NC }) =>
        NC.connect({ ...extras, address: finalAddress }),
      );
      return native;
    },
    async close() {
      if (native) await (await native.catch(() => undefined))?.close().catch(() => undefined);
      await connection.close().catch(() => undefined);
    },
  };
}
