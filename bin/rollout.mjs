#!/usr/bin/env node
// The `rollout` command. Runs the compiled CLI (dist/cli/main.mjs, built by scripts/build-cli.mjs in `npm ci` and at
// image build) when it is fresh, else the TypeScript sources through tsx: a source newer than the bundle (an edit in
// a dev checkout), or no bundle at all, means the sources run, so `npm start` always runs what is on disk.
import { readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

function freshBundle() {
  try {
    const built = statSync(`${root}dist/cli/main.mjs`).mtimeMs;
    const inputs = JSON.parse(readFileSync(`${root}dist/cli/inputs.json`, 'utf8'));
    if (!Array.isArray(inputs) || inputs.length === 0) return false;
    // A source newer than the bundle makes it stale. A missing one does not: the image leaves dev/ out, and
    // deleting a source in a checkout means editing the files that imported it.
    for (const f of inputs) {
      const st = statSync(`${root}${f}`, { throwIfNoEntry: false });
      if (st && st.mtimeMs > built) return false;
    }
    return true;
  } catch {
    return false;
  }
}

if (freshBundle()) {
  await import('../dist/cli/main.mjs');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
