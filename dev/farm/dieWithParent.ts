// Helper processes of the harness (app servers, load balancer, sshd) must not outlive a crashed launcher or test.
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';

/**
 * `cmd args` so that it gets SIGTERM if this process dies without stopping it (Linux's parent-death signal, set
 * by util-linux's setpriv before it execs the command); unchanged where setpriv is missing.
 */
export function dieWithParent(cmd: string, args: string[]): [string, string[]] {
  return existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'TERM', '--', cmd, ...args]] : [cmd, args];
}
