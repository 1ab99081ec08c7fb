// Temporal's Runtime (one per process, created before the first worker connection): its logger is the process's
// pino logger (Core's own logs forwarded to it too), and on a worker it serves Prometheus metrics: the SDK's own
// and the rollout metrics the workflows emit (workflows/rollout/telemetry.ts), from one endpoint.
import { IllegalStateError, type LogLevel as SdkLevel } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { DECISION_WAIT_BUCKETS_SECONDS, DECISION_WAIT_METRIC } from '../../workflows/rollout/telemetry';
import type { Logger } from './logger';
import { PinoTemporalLogger } from './temporalLogger';

export interface RuntimeSetup {
  logger: Logger;
  /** Level of the SDK's own messages (ROLLOUT_LOG_LEVEL); workflow and activity logs follow LOG_LEVEL. */
  sdkLevel: SdkLevel;
  /** Serve Prometheus metrics on this `host:port` (`/metrics`). */
  metricsBindAddress?: string;
}

export class MetricsPortError extends Error {
  constructor(bindAddress: string, cause: unknown) {
    super(`cannot serve metrics on ${bindAddress}: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'MetricsPortError';
  }
}

/**
 * Installs the process's Runtime; false when one already exists (a test or an earlier caller installed it, or a
 * connection was made first), in which case it is kept as it is.
 */
export function installRuntime(o: RuntimeSetup): boolean {
  try {
    Runtime.install({
      logger: new PinoTemporalLogger(o.logger, o.sdkLevel),
      telemetryOptions: {
        logging: { filter: { core: o.sdkLevel, other: 'ERROR' }, forward: {} },
        ...(o.metricsBindAddress
          ? {
              metrics: {
                prometheus: {
                  bindAddress: o.metricsBindAddress,
                  histogramBucketOverrides: { [DECISION_WAIT_METRIC]: [...DECISION_WAIT_BUCKETS_SECONDS] },
                },
              },
            }
          : {}),
      },
    });
    return true;
  } catch (e) {
    if (e instanceof IllegalStateError) return false;
    if (o.metricsBindAddress) throw new MetricsPortError(o.metricsBindAddress, e);
    throw e;
  }
}
