#!/usr/bin/env node
// Load-balancer control for the demo's deploy scripts. No dependencies; runs on Node 20 and later.
//
//   node lb.mjs drain    <server>   stop sending new requests to <server> (in-flight ones finish)
//   node lb.mjs ready    <server>   put <server> back in the pool
//   node lb.mjs maint    <server>   take <server> out completely
//   node lb.mjs state   [<server>]  prints UP | DOWN | DRAIN | MAINT (all servers: "<name> <state>" lines)
//   node lb.mjs sessions <server>   prints the number of requests <server> is handling right now
//
// Which load balancer (give exactly one; an empty value counts as not given):
//   --socket PATH     or env ROLLOUT_LB_SOCKET:    HAProxy's runtime API (`stats socket PATH level admin`)
//   --admin-url URL   or env ROLLOUT_LB_ADMIN_URL: the admin endpoint of mini-lb.mjs (the demo's fallback)
//   --backend NAME    or env ROLLOUT_LB_BACKEND:   HAProxy backend holding the servers (default `web`)
//
// With HAProxy this sends `set server <backend>/<server> state drain|ready|maint`, reads `show servers state` (the
// admin state: MAINT, DRAIN) and `show stat` (`status` for UP/DOWN, `scur` for the current sessions).
// Exit codes: 0 done, 1 load balancer error, 2 usage.
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';

const STATES = new Set(['drain', 'ready', 'maint']);

/** Sends one command to HAProxy's runtime API and returns its whole answer. */
export function haproxyCommand(socketPath, command, timeoutMs = 5000) {
  return new Promise((resolve, reject) => {
    const sock = connect({ path: socketPath });
    let out = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`HAProxy at ${socketPath} did not answer "${command}" within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.end(`${command}\n`));
    sock.on('data', (d) => {
      out += d;
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot talk to HAProxy at ${socketPath}: ${e.message}`));
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** `show stat` CSV → rows (objects keyed by the header's field names). */
export function parseShowStat(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.shift();
  if (!header || !header.startsWith('# ')) throw new Error(`unexpected "show stat" answer: ${text.slice(0, 200)}`);
  const fields = header.slice(2).split(',');
  return lines.map((l) => {
    const cells = l.split(',');
    return Object.fromEntries(fields.map((f, i) => [f, cells[i] ?? '']));
  });
}

/** HAProxy's `status` column → UP | DOWN | DRAIN | MAINT | NOLB | … (transitions like "UP 1/2" keep their word). */
export function normaliseStatus(status) {
  const s = status.trim();
  if (s === 'no check') return 'UP';
  if (s.startsWith('MAINT')) return 'MAINT';
  return s.split(' ')[0] || 'UNKNOWN';
}

/** `show servers state` → server name → srv_admin_state (a bit field). */
export function parseServersState(text) {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = lines.find((l) => l.startsWith('# '));
  if (!header) throw new Error(`unexpected "show servers state" answer: ${text.slice(0, 200)}`);
  const fields = header.slice(2).trim().split(/\s+/);
  const nameAt = fields.indexOf('srv_name');
  const adminAt = fields.indexOf('srv_admin_state');
  const out = {};
  for (const l of lines) {
    if (l.startsWith('#') || !/\s/.test(l.trim())) continue; // the header and the format version line
    const cells = l.trim().split(/\s+/);
    out[cells[nameAt]] = Number(cells[adminAt]);
  }
  return out;
}

// HAProxy's srv_admin bits: 0x01 forced maint, 0x02 inherited maint, 0x04 maint by config, 0x20 maint by DNS
// resolution; 0x08 forced drain, 0x10 inherited drain.
const ADMIN_MAINT = 0x27;
const ADMIN_DRAIN = 0x18;

function combinedState(adminBits, status) {
  if (adminBits & ADMIN_MAINT) return 'MAINT';
  if (adminBits & ADMIN_DRAIN) return 'DRAIN';
  return normaliseStatus(status);
}

/**
 * A client for either load balancer.
 * @param {{ socket?: string, adminUrl?: string, backend?: string }} opts
 */
export function lbClient(opts) {
  const socket = opts.socket || undefined;
  const adminUrl = opts.adminUrl ? opts.adminUrl.replace(/\/+$/, '') : undefined;
  const backend = opts.backend || 'web';
  if (socket && adminUrl)
    throw new Error('configure one load balancer: an HAProxy socket or a mini-lb admin URL, not both');
  if (!socket && !adminUrl) {
    throw new Error(
      'no load balancer configured: pass --socket PATH (HAProxy) or --admin-url URL (mini-lb), or set ROLLOUT_LB_SOCKET / ROLLOUT_LB_ADMIN_URL',
    );
  }
  if (socket) {
    const serverRows = async () => {
      const rows = parseShowStat(await haproxyCommand(socket, 'show stat'));
      return rows.filter((r) => r.pxname === backend && r.svname !== 'BACKEND' && r.svname !== 'FRONTEND');
    };
    const row = async (server) => {
      const r = (await serverRows()).find((x) => x.svname === server);
      if (!r) throw new Error(`no server "${server}" in HAProxy backend "${backend}"`);
      return r;
    };
    // What an operator set (`show servers state`) comes first: a drained server whose health check also fails is
    // reported DRAIN, not DOWN.
    const states = async () => {
      const [rows, admin] = await Promise.all([serverRows(), haproxyCommand(socket, `show servers state ${backend}`)]);
      const adminOf = parseServersState(admin);
      return Object.fromEntries(rows.map((r) => [r.svname, combinedState(adminOf[r.svname], r.status)]));
    };
    return {
      kind: 'haproxy',
      async setState(server, state) {
        if (!STATES.has(state)) throw new Error(`unknown state ${state}`);
        const answer = (await haproxyCommand(socket, `set server ${backend}/${server} state ${state}`)).trim();
        if (answer !== '')
          throw new Error(`HAProxy refused "set server ${backend}/${server} state ${state}": ${answer}`);
      },
      states,
      async state(server) {
        const all = await states();
        if (!(server in all)) throw new Error(`no server "${server}" in HAProxy backend "${backend}"`);
        return all[server];
      },
      async sessions(server) {
        return Number((await row(server)).scur) || 0;
      },
    };
  }
  const call = async (method, path) => {
    let res;
    try {
      res = await fetch(`${adminUrl}${path}`, { method, signal: AbortSignal.timeout(5000) });
    } catch (e) {
      throw new Error(`cannot reach the load balancer's admin endpoint ${adminUrl}: ${e.cause?.message ?? e.message}`);
    }
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`load balancer: ${body.error ?? `HTTP ${res.status}`}`);
    return body;
  };
  const one = async (server) => {
    const all = (await call('GET', '/servers')).servers ?? {};
    const s = all[server];
    if (!s) throw new Error(`no server "${server}" in the load balancer (known: ${Object.keys(all).join(', ')})`);
    return s;
  };
  return {
    kind: 'mini-lb',
    async setState(server, state) {
      if (!STATES.has(state)) throw new Error(`unknown state ${state}`);
      await call('POST', `/servers/${encodeURIComponent(server)}/${state}`);
    },
    async states() {
      const all = (await call('GET', '/servers')).servers ?? {};
      return Object.fromEntries(Object.entries(all).map(([name, s]) => [name, s.status]));
    },
    async state(server) {
      return (await one(server)).status;
    },
    async sessions(server) {
      return (await one(server)).sessions;
    },
  };
}

function parseCli(argv, env) {
  const positional = [];
  const o = { socket: env.ROLLOUT_LB_SOCKET, adminUrl: env.ROLLOUT_LB_ADMIN_URL, backend: env.ROLLOUT_LB_BACKEND };
  let socketGiven = false;
  let urlGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--(socket|admin-url|backend)(?:=(.*))?$/.exec(a);
    if (!m) {
      positional.push(a);
      continue;
    }
    const v = m[2] ?? argv[++i] ?? '';
    if (m[1] === 'socket') {
      o.socket = v;
      socketGiven = v !== '';
    } else if (m[1] === 'admin-url') {
      o.adminUrl = v;
      urlGiven = v !== '';
    } else o.backend = v;
  }
  // An option given on the command line wins over the other kind set in the environment.
  if (socketGiven && !urlGiven) o.adminUrl = undefined;
  if (urlGiven && !socketGiven) o.socket = undefined;
  return { positional, opts: o };
}

const USAGE =
  'usage: node lb.mjs <drain|ready|maint|state|sessions> [server] [--socket PATH | --admin-url URL] [--backend NAME]';

export async function main(argv = process.argv.slice(2), env = process.env) {
  const { positional, opts } = parseCli(argv, env);
  const [cmd, server] = positional;
  const needsServer = cmd !== 'state';
  if (
    !cmd ||
    !['drain', 'ready', 'maint', 'state', 'sessions'].includes(cmd) ||
    (needsServer && !server) ||
    positional.length > 2
  ) {
    console.error(USAGE);
    return 2;
  }
  let lb;
  try {
    lb = lbClient(opts);
  } catch (e) {
    console.error(`lb: ${e.message}\n${USAGE}`);
    return 2;
  }
  try {
    if (cmd === 'state') {
      if (server) console.log(await lb.state(server));
      else for (const [name, st] of Object.entries(await lb.states())) console.log(`${name} ${st}`);
    } else if (cmd === 'sessions') {
      console.log(String(await lb.sessions(server)));
    } else {
      await lb.setState(server, cmd);
      console.log(`${server}: ${cmd} (${lb.kind})`);
    }
    return 0;
  } catch (e) {
    console.error(`lb: ${e.message}`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e) => {
      console.error(`lb: ${e.stack ?? e}`);
      process.exitCode = 1;
    },
  );
}
