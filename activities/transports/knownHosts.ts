// A small parser and verifier for OpenSSH known_hosts files (see sshd(8), "SSH_KNOWN_HOSTS FILE FORMAT").
//
// Supported: plain host names and addresses, comma-separated pattern lists, `[host]:port` for ports other than
// 22, hashed entries (`|1|base64(salt)|base64(HMAC-SHA1(salt, name))`), negated patterns (`!pattern`), `*` and `?`
// wildcards, the `@revoked` marker (a revoked key is refused even if another line accepts it). `@cert-authority`
// lines, comments and blank lines are skipped (host certificates are not supported).

import { createHmac, timingSafeEqual } from 'node:crypto';

export type HostKeyCheck = 'match' | 'mismatch' | 'unknown' | 'revoked';

export interface KnownHostEntry {
  /** 1-based line number in the file. */
  line: number;
  marker: 'revoked' | 'cert-authority' | undefined;
  /** The host field as written: a comma-separated pattern list or one hashed entry. */
  hosts: string;
  keyType: string;
  key: Buffer;
}

/** The name OpenSSH looks up for a host: `host` on port 22, `[host]:port` otherwise (lower-cased). */
export function knownHostsName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

/** Parses a known_hosts text. Malformed lines are skipped, as OpenSSH does. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] ?? '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    const fields = raw.split(/[ \t]+/);
    let marker: KnownHostEntry['marker'];
    if (fields[0]?.startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else continue; // unknown marker: ignore the line
    }
    const [hosts, keyType, keyB64] = fields;
    if (!hosts || !keyType || !keyB64) continue;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(keyB64)) continue;
    const key = Buffer.from(keyB64, 'base64');
    if (key.length === 0) continue;
    entries.push({ line: i + 1, marker, hosts, keyType, key });
  }
  return entries;
}

/** Glob match of OpenSSH patterns: `*` any run of characters, `?` exactly one. Case-insensitive. */
export function matchPattern(name: string, pattern: string): boolean {
  const s = name.toLowerCase();
  const p = pattern.toLowerCase();
  // Iterative glob matching with backtracking on the last `*`.
  let si = 0;
  let pi = 0;
  let starP = -1;
  let starS = 0;
  while (si < s.length) {
    const pc = p[pi];
    if (pc === '?' || (pc !== undefined && pc !== '*' && pc === s[si])) {
      si++;
      pi++;
    } else if (pc === '*') {
      starP = pi++;
      starS = si;
    } else if (starP >= 0) {
      pi = starP + 1;
      si = ++starS;
    } else {
      return false;
    }
  }
  while (p[pi] === '*') pi++;
  return pi === p.length;
}

function matchHashed(name: string, hashed: string): boolean {
  // |1|salt|hash
  const parts = hashed.split('|');
  if (parts.length !== 4 || parts[0] !== '' || parts[1] !== '1') return false;
  const salt = Buffer.from(parts[2] ?? '', 'base64');
  const want = Buffer.from(parts[3] ?? '', 'base64');
  if (salt.length === 0 || want.length !== 20) return false;
  const got = createHmac('sha1', salt).update(name).digest();
  return timingSafeEqual(got, want);
}

/**
 * Does the host field of an entry apply to `name` (as given by knownHostsName)?
 * A negated pattern that matches excludes the host from the line even if another pattern matches.
 */
export function hostFieldMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return matchHashed(name, hosts);
  let positive = false;
  for (const pat of hosts.split(',')) {
    if (pat === '') continue;
    if (pat.startsWith('!')) {
      if (matchPattern(name, pat.slice(1))) return false;
    } else if (matchPattern(name, pat)) {
      positive = true;
    }
  }
  return positive;
}

/** The entries (not cert-authority) that apply to host:port. */
export function entriesFor(entries: KnownHostEntry[], host: string, port: number): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter((e) => e.marker !== 'cert-authority' && hostFieldMatches(e.hosts, name));
}

/** Key types (e.g. `ssh-ed25519`) the file holds for host:port, in file order, revoked ones excluded. */
export function knownKeyTypes(knownHostsText: string, host: string, port: number): string[] {
  const types: string[] = [];
  for (const e of entriesFor(parseKnownHosts(knownHostsText), host, port)) {
    if (e.marker === undefined && !types.includes(e.keyType)) types.push(e.keyType);
  }
  return types;
}

/**
 * Checks the key a server presented against a known_hosts text.
 * - 'revoked': a matching `@revoked` line holds this key (whatever else the file says);
 * - 'match': a line for this host holds exactly this key;
 * - 'mismatch': lines for this host hold a different key of the same type (the host key changed);
 * - 'unknown': no line for this host has a key of this type.
 * `key` is the key blob, as raw bytes or base64 (the second field of a `.pub` line).
 */
export function checkHostKey(
  knownHostsText: string,
  host: string,
  port: number,
  keyType: string,
  key: string | Buffer,
): HostKeyCheck {
  const blob = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
  const entries = entriesFor(parseKnownHosts(knownHostsText), host, port);
  let sawSameType = false;
  let matched = false;
  for (const e of entries) {
    const equal = e.key.length === blob.length && e.key.equals(blob);
    if (e.marker === 'revoked') {
      if (equal) return 'revoked';
      continue;
    }
    if (e.keyType !== keyType) continue;
    sawSameType = true;
    if (equal) matched = true;
  }
  if (matched) return 'match';
  return sawSameType ? 'mismatch' : 'unknown';
}

/** The key type named inside an SSH public key blob (`string type` first), e.g. `ssh-ed25519`. */
export function keyTypeOfBlob(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || blob.length < 4 + len) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** Hashes a host name the way `ssh-keygen -H` / `ssh-keyscan -H` do (handy for writing test files). */
export function hashHostName(name: string, salt: Buffer): string {
  const mac = createHmac('sha1', salt).update(name).digest();
  return `|1|${salt.toString('base64')}|${mac.toString('base64')}`;
}
