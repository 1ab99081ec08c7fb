#!/usr/bin/env node
// Sanity test for one demo app server, straight to the server (not through the load balancer).
// No dependencies; runs on Node 20 and later.
//
//   node check.mjs <app url> [expected version]
//
// Passes (exit 0) when GET /health answers 200 and GET / answers 200 with the expected version (when given).
// Fails with exit 1 and says why otherwise. Each request is retried for up to 5 s (the server may be busy).
const [url, expected] = process.argv.slice(2);
if (!url) {
  console.error('usage: node check.mjs <app url> [expected version]');
  process.exit(2);
}
const base = url.replace(/\/+$/, '');

async function get(path) {
  const res = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, text: await res.text() };
}

async function attempt() {
  const problems = [];
  const health = await get('/health');
  console.log(`GET ${base}/health -> ${health.status} ${health.text.trim()}`);
  if (health.status !== 200) problems.push(`health check answered ${health.status}: ${health.text.trim()}`);
  const home = await get('/');
  console.log(`GET ${base}/ -> ${home.status} ${home.text.trim()}`);
  let version;
  try {
    version = JSON.parse(home.text).version;
  } catch {
    // reported below
  }
  if (home.status !== 200) problems.push(`GET / answered ${home.status}`);
  else if (expected !== undefined && version !== expected)
    problems.push(`GET / answers version ${version}, expected ${expected}`);
  return problems;
}

const deadline = Date.now() + 5000;
let problems;
for (;;) {
  try {
    problems = await attempt();
  } catch (e) {
    problems = [`cannot reach ${base}: ${e.cause?.message ?? e.message}`];
  }
  // A reachable server that answers wrongly will not change its mind: only connection problems are retried.
  if (problems.length === 0 || !problems[0].startsWith('cannot reach') || Date.now() > deadline) break;
  await new Promise((r) => setTimeout(r, 250));
}
if (problems.length > 0) {
  for (const p of problems) console.error(`sanity test failed: ${p}`);
  process.exit(1);
}
console.log('sanity test passed');
