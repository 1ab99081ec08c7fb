// Where a process finds Temporal: an explicitly set environment variable wins over the config file's `temporal:`
// section, which wins over the defaults. Used by the CLI and the bot alike.
import type { Env } from '../env';

export interface TemporalSettings {
  address?: string;
  namespace: string;
  taskQueue: string;
}

export type TemporalSection = { address?: string | undefined; namespace: string; taskQueue: string };

export function temporalSettings(env: Env, section?: TemporalSection): TemporalSettings {
  const address = env.TEMPORAL_ADDRESS ?? section?.address;
  return {
    ...(address ? { address } : {}),
    namespace: env.explicit.has('TEMPORAL_NAMESPACE') ? env.TEMPORAL_NAMESPACE : (section?.namespace ?? env.TEMPORAL_NAMESPACE),
    taskQueue: env.explicit.has('ROLLOUT_TASK_QUEUE') ? env.ROLLOUT_TASK_QUEUE : (section?.taskQueue ?? env.ROLLOUT_TASK_QUEUE),
  };
}
