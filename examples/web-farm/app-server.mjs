#!/usr/bin/env node
// A tiny app server for the demo web farm. No dependencies; runs on Node 20 and later.
//
//   node app-server.mjs --name web1 --port 18081 --dir /path/to/targets/web1 [--host 127.0.0.1]
//
// The target directory is what a deploy changes:
//   <dir>/releases/<release>/version   the release's version string
//   <dir>/current -> releases/<release> switched atomically by the deploy script (a symlink)
//   <dir>/current/BROKEN               when present, the health check fails
// Everything is read fresh on each request, so a deploy never restarts this process.
//
//   GET /            200 {"name":"web1","version":"v2"}   (503 when no release is deployed yet)
//   GET /health      200 "ok", or 500 when current/BROKEN exists (or nothing is deployed)
//   GET /slow?ms=N   like GET / but answers after N ms (at most 60 000): in-flight requests for drain tests
//
// The server exits on SIGTERM/SIGINT (after finishing requests in flight, at most 5 s) and when its stdin
// closes, if stdin is a pipe (so it never outlives a launcher that dies).
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';

function parseArgs(argv) {
  const opts = { host: '127.0.0.1' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${a}`);
    opts[m[1]] = m[2] ?? argv[++i];
  }
  for (const k of ['name', 'port', 'dir']) if (!opts[k]) throw new Error(`--${k} is required`);
  return { name: opts.name, host: opts.host, port: Number(opts.port), dir: opts.dir };
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`app-server: ${e.message}\nusage: node app-server.mjs --name NAME --port PORT --dir DIR [--host ADDR]`);
  process.exit(2);
}

async function currentVersion() {
  try {
    return (await readFile(join(opts.dir, 'current', 'version'), 'utf8')).trim();
  } catch {
    return undefined;
  }
}

async function isBroken() {
  try {
    await stat(join(opts.dir, 'current', 'BROKEN'));
    return true;
  } catch {
    return false;
  }
}

function send(res, status, body, type = 'application/json') {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  res.end(text);
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url ?? '/', 'http://app');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, { error: 'method not allowed' });
    if (url.pathname === '/health') {
      if (await isBroken()) return send(res, 500, 'broken: current/BROKEN exists\n', 'text/plain');
      if ((await currentVersion()) === undefined) return send(res, 500, 'no release deployed\n', 'text/plain');
      return send(res, 200, 'ok\n', 'text/plain');
    }
    if (url.pathname === '/slow') {
      const ms = Math.min(Math.max(Number(url.searchParams.get('ms')) || 0, 0), 60_000);
      await new Promise((r) => setTimeout(r, ms));
    } else if (url.pathname !== '/') {
      return send(res, 404, { error: 'not found' });
    }
    const version = await currentVersion();
    if (version === undefined) return send(res, 503, { name: opts.name, error: 'no release deployed' });
    return send(res, 200, { name: opts.name, version });
  } catch (e) {
    return send(res, 500, { name: opts.name, error: String(e && e.message) });
  }
});
server.keepAliveTimeout = 30_000;

server.on('error', (e) => {
  console.error(`app-server ${opts.name}: ${e.message}`);
  process.exit(1);
});
server.listen(opts.port, opts.host, () => {
  console.log(`app-server ${opts.name} listening on http://${opts.host}:${opts.port} serving ${opts.dir}`);
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (!process.stdin.isTTY && process.stdin.readable && process.env.ROLLOUT_DEMO_CHILD === '1') {
  process.stdin.on('end', stop).on('close', stop).on('error', stop).resume();
}
