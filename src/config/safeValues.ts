// What the config accepts in fields that reach ssh and the shell on a target (host, user, workdir) or name a
// file holding a secret (key and known_hosts paths). Anything outside these sets is refused at load time, so a
// value like `127.0.0.1;touch x`, `-oProxyCommand=…` or `$(…)` never reaches a command line.
import { isIPv4, isIPv6 } from 'node:net';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*\\.?$`);

/** A hostname (RFC 1123 labels), an IPv4 address, or an IPv6 address in brackets (`[::1]`); else why not. */
export function hostProblem(v: string): string | undefined {
  const rule = 'must be a hostname, an IPv4 address or a bracketed IPv6 address like [::1]';
  if (v.startsWith('[') && v.endsWith(']')) return isIPv6(v.slice(1, -1)) ? undefined : rule;
  // All-numeric dotted names are addresses: 300.1.1.1 or 10.0.0 are mistakes, not hostnames.
  if (/^[\d.]+$/.test(v)) return isIPv4(v) ? undefined : rule;
  return HOSTNAME.test(v) ? undefined : rule;
}

/** The host as ssh and known_hosts want it: IPv6 without its brackets. */
export function bareHost(v: string): string {
  return v.startsWith('[') && v.endsWith(']') ? v.slice(1, -1) : v;
}

/** A login name: a letter or _ first, then letters, digits, _ . - (at most 32), as POSIX portable names. */
export const USER_PATTERN = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
export const USER_RULE = 'must be a login name: a letter or _ first, then letters, digits, _ . - (at most 32)';

/** A directory: letters, digits and `_ . / ~ + - @`, not starting with `-` (no spaces, quotes, $ or `). */
export const WORKDIR_PATTERN = /^[A-Za-z0-9_./~+@][A-Za-z0-9_./~+@-]{0,1023}$/;
export const WORKDIR_RULE =
  'must be a path of letters, digits and _ . / ~ + - @ (not starting with -; no spaces or shell characters)';

/**
 * A path field that holds key material instead of a path (a pasted private or public key). The error never
 * repeats the value: it may be a secret.
 */
export function keyMaterialProblem(v: string): string | undefined {
  const looksLikeKey =
    /-----BEGIN|PRIVATE KEY|[\r\n]/.test(v) ||
    /^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-|sk-)/.test(v) ||
    /[A-Za-z0-9+/=]{200,}/.test(v);
  if (looksLikeKey) {
    return 'holds key material, not a path (value not shown): put the key in a file and give its path, or use privateKeyEnv';
  }
  if (v.length === 0) return 'must not be empty';
  if (v.length > 4096) return 'is too long for a path';
  return undefined;
}
