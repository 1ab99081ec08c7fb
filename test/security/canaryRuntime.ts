// Imported FIRST by the canary test: installs this process's Temporal Runtime with a pino logger that writes every
// line (worker, SDK, activity logs) into `logLines`, so the test can scan them. test/support/temporal.ts then
// keeps this Runtime.
import { Writable } from 'node:stream';
import { createLogger } from '../../src/observability/logger';
import { installRuntime } from '../../src/observability/runtime';

export const logLines: string[] = [];

export const captured = new Writable({
  write(chunk: Buffer, _enc, cb) {
    logLines.push(chunk.toString('utf8'));
    cb();
  },
});

export const canaryLogger = createLogger({ level: 'trace', format: 'json', destination: captured, service: 'worker' });

export const runtimeInstalled = installRuntime({ logger: canaryLogger, sdkLevel: 'DEBUG' });
