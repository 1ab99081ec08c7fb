// Where a process finds Temporal: an explicitly set environment variable wins over the config file's `temporal:`
// section, which wins over the defaults. Used by the CLI and the bot alike.
//
// "Explicitly set" includes Temporal's standard client configuration, read by @temporalio/envconfig: the
// `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, `TEMPORAL_API_KEY`, `TEMPORAL_TLS*` variables and a `temporal.toml`
// profile (`TEMPORAL_CONFIG_FILE`, `TEMPORAL_PROFILE`; default `~/.config/temporalio/temporal.toml`, profile
// `default`), the variables overriding the file. With none of them and no `temporal.address` in the config, the
// embedded dev server is used.
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';
import type { Env } from '../env';

export interface TemporalSettings {
  address?: string;
  namespace: string;
  taskQueue: string;
}

export type TemporalSection = { address?: string | undefined; namespace: string; taskQueue: string };

/** How to reach a Temporal frontend besides its address: TLS (server CA, client certificate), API key, headers. */
export type TemporalConnectionExtras = Pick<NativeConnectionOptions, 'tls' | 'apiKey' | 'metadata'>;

export interface TemporalClientProfile {
  address?: string;
  namespace?: string;
  connection: TemporalConnectionExtras;
}

export class TemporalClientConfigError extends Error {
  constructor(message: string) {
    super(`cannot load the Temporal client configuration (TEMPORAL_* variables, temporal.toml): ${message}`);
    this.name = 'TemporalClientConfigError';
  }
}

/** The envconfig profile for this environment (the file, if any, with the variables applied over it). */
export function temporalClientProfile(env: Env): TemporalClientProfile {
  let loaded;
  try {
    loaded = loadClientConnectConfig({
      overrideEnvVars: {
        ...env.temporalClientEnv,
        // The typed fields stay authoritative (a caller may hand on an Env with TEMPORAL_ADDRESS replaced).
        ...(env.TEMPORAL_ADDRESS ? { TEMPORAL_ADDRESS: env.TEMPORAL_ADDRESS } : {}),
        ...(env.explicit.has('TEMPORAL_NAMESPACE') ? { TEMPORAL_NAMESPACE: env.TEMPORAL_NAMESPACE } : {}),
      },
    });
  } catch (e) {
    throw new TemporalClientConfigError((e as Error).message);
  }
  const { address, tls, apiKey, metadata } = loaded.connectionOptions;
  const connection: TemporalConnectionExtras = {
    ...(tls !== undefined ? { tls } : {}),
    ...(apiKey !== undefined ? { apiKey } : {}),
    ...(metadata && Object.keys(metadata).length > 0 ? { metadata } : {}),
  };
  return { ...(address ? { address } : {}), ...(loaded.namespace ? { namespace: loaded.namespace } : {}), connection };
}

export function temporalSettings(env: Env, section?: TemporalSection): TemporalSettings {
  const profile = temporalClientProfile(env);
  const address = profile.address ?? section?.address;
  return {
    ...(address ? { address } : {}),
    namespace: profile.namespace ?? section?.namespace ?? env.TEMPORAL_NAMESPACE,
    taskQueue: env.explicit.has('ROLLOUT_TASK_QUEUE')
      ? env.ROLLOUT_TASK_QUEUE
      : (section?.taskQueue ?? env.ROLLOUT_TASK_QUEUE),
  };
}
