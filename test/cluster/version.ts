// The Temporal server version the cluster tests build and run. The pin itself lives in temporal-server.json, so
// non-TypeScript readers (the compose check, scripts) read the same one.
import { readFileSync } from 'node:fs';

const pinned = JSON.parse(readFileSync(new URL('./temporal-server.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** e.g. `v1.30.4` (a Go module version of go.temporal.io/server). */
export const TEMPORAL_SERVER_VERSION: string = pinned.version;

/** The same version without the `v`, as Docker image tags spell it (`temporalio/server:1.30.4`). */
export const TEMPORAL_SERVER_IMAGE_TAG: string = TEMPORAL_SERVER_VERSION.replace(/^v/, '');
