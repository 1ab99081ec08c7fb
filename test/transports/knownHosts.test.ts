import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkHostKey,
  hashHostName,
  keyTypeOfBlob,
  knownHostsName,
  knownKeyTypes,
  matchPattern,
  parseKnownHosts,
} from '../../activities/transports/knownHosts';
import { startSshd, type SshdFixture } from '../support/sshd';

const execFileP = promisify(execFile);

// Two made-up keys (any base64 works for the parser; only equality matters).
const ED_A = Buffer.from('\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + 'A'.repeat(32), 'latin1').toString('base64');
const ED_B = Buffer.from('\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20' + 'B'.repeat(32), 'latin1').toString('base64');
const RSA_A = Buffer.from('\x00\x00\x00\x07ssh-rsa' + 'rsa-key-bytes', 'latin1').toString('base64');

describe('knownHosts: patterns', { timeout: 30_000 }, () => {
  it('matches * and ? wildcards, case-insensitively', () => {
    expect(matchPattern('web1.example.com', '*.example.com')).toBe(true);
    expect(matchPattern('WEB1.Example.COM', '*.example.com')).toBe(true);
    expect(matchPattern('example.com', '*.example.com')).toBe(false);
    expect(matchPattern('web1', 'web?')).toBe(true);
    expect(matchPattern('web12', 'web?')).toBe(false);
    expect(matchPattern('[10.0.0.5]:2222', '[10.0.0.*]:2222')).toBe(true);
    expect(matchPattern('[10.0.0.5]:22222', '[10.0.0.*]:2222')).toBe(false);
    expect(matchPattern('anything', '*')).toBe(true);
    expect(matchPattern('a*b', 'a*b')).toBe(true);
  });

  it('names hosts like OpenSSH: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('Example.com', 22)).toBe('example.com');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  it('reads the key type out of a key blob', () => {
    expect(keyTypeOfBlob(Buffer.from(ED_A, 'base64'))).toBe('ssh-ed25519');
    expect(keyTypeOfBlob(Buffer.from([0, 0]))).toBeUndefined();
  });
});

describe('knownHosts: checkHostKey on hand-written files', { timeout: 30_000 }, () => {
  it('plain names, comma lists and [host]:port entries', () => {
    const text = [
      '# a comment',
      '',
      `web1,10.0.0.1 ssh-ed25519 ${ED_A} comment here`,
      `[web2]:2222,[10.0.0.2]:2222 ssh-ed25519 ${ED_B}`,
    ].join('\n');
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_A)).toBe('match');
    expect(checkHostKey(text, '10.0.0.1', 22, 'ssh-ed25519', ED_A)).toBe('match');
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_B)).toBe('mismatch');
    // web1 on another port is a different known_hosts name
    expect(checkHostKey(text, 'web1', 2222, 'ssh-ed25519', ED_A)).toBe('unknown');
    expect(checkHostKey(text, 'web2', 2222, 'ssh-ed25519', ED_B)).toBe('match');
    expect(checkHostKey(text, 'web2', 22, 'ssh-ed25519', ED_B)).toBe('unknown');
    expect(checkHostKey(text, '10.0.0.2', 2222, 'ssh-ed25519', ED_A)).toBe('mismatch');
    expect(checkHostKey(text, 'web3', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
  });

  it('a key of another type is unknown, not a mismatch; any matching line wins', () => {
    const text = [`web1 ssh-rsa ${RSA_A}`, `web1 ssh-ed25519 ${ED_B}`, `web1 ssh-ed25519 ${ED_A}`].join('\n');
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_A)).toBe('match');
    expect(checkHostKey(`web1 ssh-rsa ${RSA_A}`, 'web1', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
    expect(knownKeyTypes(text, 'web1', 22)).toEqual(['ssh-rsa', 'ssh-ed25519']);
  });

  it('wildcards and negated patterns', () => {
    const text = `*.prod.example.com,!db*.prod.example.com ssh-ed25519 ${ED_A}`;
    expect(checkHostKey(text, 'web1.prod.example.com', 22, 'ssh-ed25519', ED_A)).toBe('match');
    expect(checkHostKey(text, 'db1.prod.example.com', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
    // a negated pattern alone never matches
    expect(checkHostKey(`!web1 ssh-ed25519 ${ED_A}`, 'web2', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
  });

  it('hashed entries (|1|salt|hmac)', () => {
    const salt = Buffer.from('0123456789abcdefghij');
    const text = [
      `${hashHostName('[10.0.0.7]:2222', salt)} ssh-ed25519 ${ED_A}`,
      `${hashHostName('plainhost', salt)} ssh-ed25519 ${ED_B}`,
    ].join('\n');
    expect(checkHostKey(text, '10.0.0.7', 2222, 'ssh-ed25519', ED_A)).toBe('match');
    expect(checkHostKey(text, '10.0.0.7', 2222, 'ssh-ed25519', ED_B)).toBe('mismatch');
    expect(checkHostKey(text, '10.0.0.7', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
    expect(checkHostKey(text, 'PlainHost', 22, 'ssh-ed25519', ED_B)).toBe('match');
    // a corrupt hash is just a non-matching line
    expect(checkHostKey(`|1|bad|bad ssh-ed25519 ${ED_A}`, 'x', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
  });

  it('@revoked refuses the key even when another line accepts it; @cert-authority lines are skipped', () => {
    const text = [`web1 ssh-ed25519 ${ED_A}`, `@revoked * ssh-ed25519 ${ED_A}`].join('\n');
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_A)).toBe('revoked');
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_B)).toBe('mismatch');
    const ca = `@cert-authority *.example.com ssh-ed25519 ${ED_A}`;
    expect(checkHostKey(ca, 'web1.example.com', 22, 'ssh-ed25519', ED_A)).toBe('unknown');
    expect(parseKnownHosts(ca)[0]?.marker).toBe('cert-authority');
    expect(knownKeyTypes(text, 'web1', 22)).toEqual(['ssh-ed25519']);
  });

  it('skips malformed lines and unknown markers', () => {
    const text = ['garbage', `web1 ssh-ed25519`, `@weird web1 ssh-ed25519 ${ED_A}`, `web1 ssh-ed25519 ${ED_B}`].join(
      '\n',
    );
    expect(parseKnownHosts(text)).toHaveLength(1);
    expect(checkHostKey(text, 'web1', 22, 'ssh-ed25519', ED_A)).toBe('mismatch');
  });
});

describe('knownHosts: entries from real ssh-keyscan -H', { timeout: 30_000 }, () => {
  let sshd: SshdFixture;
  beforeAll(async () => {
    sshd = await startSshd({ count: 2, baseAddress: '127.0.1.31', port: 2222 });
  }, 30_000);
  afterAll(async () => {
    await sshd?.stop();
  });

  const pubKey = async (i: number): Promise<[string, string]> => {
    const [type, b64] = (await readFile(sshd.servers[i]!.hostKeyPubPath, 'utf8')).trim().split(/\s+/);
    return [type!, b64!];
  };

  it('matches each server against its own hashed entry and detects the other key', async () => {
    const text = await readFile(sshd.knownHostsPath, 'utf8');
    expect(text).toMatch(/^\|1\|/); // hashed
    const [s1, s2] = sshd.servers;
    const [type1, key1] = await pubKey(0);
    const [type2, key2] = await pubKey(1);
    expect(checkHostKey(text, s1!.host, s1!.port, type1, key1)).toBe('match');
    expect(checkHostKey(text, s2!.host, s2!.port, type2, key2)).toBe('match');
    expect(checkHostKey(text, s1!.host, s1!.port, type2, key2)).toBe('mismatch');
    expect(checkHostKey(text, s1!.host, 22, type1, key1)).toBe('unknown');
    expect(checkHostKey(text, '127.0.1.99', s1!.port, type1, key1)).toBe('unknown');
    expect(knownKeyTypes(text, s1!.host, s1!.port)).toEqual(['ssh-ed25519']);
  });

  it('agrees with ssh-keygen -F on the same file', async () => {
    const s1 = sshd.servers[0]!;
    const name = knownHostsName(s1.host, s1.port);
    const { stdout } = await execFileP('ssh-keygen', ['-F', name, '-f', sshd.knownHostsPath]);
    const found = stdout.split('\n').filter((l) => l.startsWith('|1|'));
    expect(found).toHaveLength(1);
    const entries = parseKnownHosts(found.join('\n'));
    const [type1, key1] = await pubKey(0);
    expect(entries[0]?.key.toString('base64')).toBe(key1);
    // and our own check on a file holding just the other server's entries says unknown, as ssh-keygen -F does
    const onlyOther = join(sshd.dir, 'known_hosts_other');
    await writeFile(onlyOther, sshd.servers[1]!.knownHostsLines.join('\n') + '\n');
    const other = await execFileP('ssh-keygen', ['-F', name, '-f', onlyOther]).catch((e: { code?: number }) => e);
    expect((other as { code?: number }).code).toBe(1);
    expect(checkHostKey(await readFile(onlyOther, 'utf8'), s1.host, s1.port, type1, key1)).toBe('unknown');
  });
});
