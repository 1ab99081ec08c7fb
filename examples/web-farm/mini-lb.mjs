#!/usr/bin/env node
// A small round-robin HTTP load balancer, used by the demo where HAProxy is not installed. No dependencies;
// runs on Node 20 and later. Not for production: use HAProxy (or nginx, Envoy, …) there.
//
//   node mini-lb.mjs --port 18080 --admin-port 18085 --server web1=127.0.0.1:18081 --server web2=127.0.0.1:18082 …
//                    [--host 127.0.0.1] [--check-interval-ms 500]
//
// Traffic port: every request goes to the next server that is in the pool (admin state `ready`) and healthy
// (GET /health answered 200 on the last check). A request that cannot reach its server before any response
// byte arrived is retried once on another server (like HAProxy's `option redispatch`).
//
// Admin port (loopback only; what lb.mjs --admin-url talks to):
//   GET  /servers                          {"servers":{"web1":{"status":"UP","admin":"ready","healthy":true,"sessions":0,"address":"…"}}}
//   POST /servers/<name>/<drain|ready|maint>
// status: MAINT (admin maint), DRAIN (admin drain), else UP or DOWN from the health check.
// `sessions` counts the requests the server is handling right now (what a drain waits for).
import { createServer, request as httpRequest, Agent } from 'node:http';

function parseArgs(argv) {
  const o = { host: '127.0.0.1', servers: [], checkIntervalMs: 500 };
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}`);
    const v = m[2] ?? argv[++i];
    if (v === undefined) throw new Error(`--${m[1]} needs a value`);
    if (m[1] === 'server') {
      const sm = /^([A-Za-z0-9_.-]+)=([^:]+):(\d+)$/.exec(v);
      if (!sm) throw new Error(`--server wants NAME=HOST:PORT, got ${v}`);
      o.servers.push({ name: sm[1], host: sm[2], port: Number(sm[3]) });
    } else if (m[1] === 'port') o.port = Number(v);
    else if (m[1] === 'admin-port') o.adminPort = Number(v);
    else if (m[1] === 'host') o.host = v;
    else if (m[1] === 'check-interval-ms') o.checkIntervalMs = Number(v);
    else throw new Error(`unknown option --${m[1]}`);
  }
  if (!o.port || !o.adminPort || o.servers.length === 0)
    throw new Error('--port, --admin-port and at least one --server are required');
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(`mini-lb: ${e.message}`);
  process.exit(2);
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });
const servers = opts.servers.map((s) => ({ ...s, admin: 'ready', healthy: true, sessions: 0 }));
let next = 0;

function status(s) {
  if (s.admin === 'maint') return 'MAINT';
  if (s.admin === 'drain') return 'DRAIN';
  return s.healthy ? 'UP' : 'DOWN';
}

function pick(exclude) {
  for (let i = 0; i < servers.length; i++) {
    const s = servers[(next + i) % servers.length];
    if (s.admin === 'ready' && s.healthy && s !== exclude) {
      next = (next + i + 1) % servers.length;
      return s;
    }
  }
  return undefined;
}

function check(s) {
  const req = httpRequest(
    { host: s.host, port: s.port, path: '/health', method: 'GET', agent, timeout: 2000 },
    (res) => {
      res.resume();
      s.healthy = res.statusCode === 200;
    },
  );
  req.on('timeout', () => req.destroy(new Error('timeout')));
  req.on('error', () => {
    s.healthy = false;
  });
  req.end();
}
const checker = setInterval(() => servers.forEach(check), opts.checkIntervalMs);
servers.forEach(check);

function proxy(req, res, body, tried) {
  const s = pick(tried);
  if (!s) {
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.end('no server available\n');
    return;
  }
  s.sessions++;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      s.sessions--;
    }
  };
  const up = httpRequest(
    {
      host: s.host,
      port: s.port,
      method: req.method,
      path: req.url,
      headers: { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress },
      agent,
    },
    (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
      upRes.on('end', finish);
      upRes.on('error', finish);
      res.on('close', finish);
    },
  );
  up.on('error', (e) => {
    finish();
    if (!res.headersSent && !tried && (req.method === 'GET' || req.method === 'HEAD')) return proxy(req, res, body, s);
    if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`bad gateway: ${s.name}: ${e.message}\n`);
    } else res.destroy();
  });
  up.end(body);
}

const front = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => proxy(req, res, Buffer.concat(chunks), undefined));
});
front.keepAliveTimeout = 30_000;

function json(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const admin = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://admin');
  if (req.method === 'GET' && url.pathname === '/servers') {
    return json(res, 200, {
      servers: Object.fromEntries(
        servers.map((s) => [
          s.name,
          {
            status: status(s),
            admin: s.admin,
            healthy: s.healthy,
            sessions: s.sessions,
            address: `${s.host}:${s.port}`,
          },
        ]),
      ),
    });
  }
  const m = /^\/servers\/([^/]+)\/(drain|ready|maint)$/.exec(url.pathname);
  if (req.method === 'POST' && m) {
    const s = servers.find((x) => x.name === decodeURIComponent(m[1]));
    if (!s) return json(res, 404, { error: `no server "${decodeURIComponent(m[1])}"` });
    s.admin = m[2];
    return json(res, 200, { name: s.name, status: status(s) });
  }
  return json(res, 404, { error: 'not found: GET /servers, POST /servers/<name>/<drain|ready|maint>' });
});

let listening = 0;
const onListen = () => {
  if (++listening === 2) {
    console.log(
      `mini-lb listening on http://${opts.host}:${opts.port} (admin http://${opts.host}:${opts.adminPort}) for ${servers.map((s) => s.name).join(', ')}`,
    );
  }
};
for (const srv of [front, admin]) {
  srv.on('error', (e) => {
    console.error(`mini-lb: ${e.message}`);
    process.exit(1);
  });
}
front.listen(opts.port, opts.host, onListen);
admin.listen(opts.adminPort, opts.host, onListen);

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  clearInterval(checker);
  admin.close();
  front.close(() => process.exit(0));
  front.closeIdleConnections();
  agent.destroy();
  setTimeout(() => process.exit(0), 5000).unref();
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
if (!process.stdin.isTTY && process.env.ROLLOUT_DEMO_CHILD === '1') {
  process.stdin.on('end', stop).on('close', stop).on('error', stop).resume();
}
