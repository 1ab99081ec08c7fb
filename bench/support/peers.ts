// The peers rollout is compared with: a tuned Ansible playbook and a bare parallel-ssh pool, over the same farm
// and the same per-target shell text (see farm.ts).
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TargetPlan } from '../../domain/plan';

const execFileP = promisify(execFile);

/** Pinned: the benchmark's setup installs exactly this into a venv under the state folder. */
export const ANSIBLE_CORE_VERSION = '2.19.14';
export const STATE_DIR = path.resolve(process.env.ROLLOUT_BENCH_STATE ?? '.rollout/bench');

/** ansible-playbook from a venv under the state folder, installed on first use (pip, pinned). */
export async function ensureAnsible(): Promise<string> {
  const venv = path.join(STATE_DIR, `ansible-core-${ANSIBLE_CORE_VERSION}`);
  const bin = path.join(venv, 'bin', 'ansible-playbook');
  if (existsSync(bin)) return bin;
  mkdirSync(STATE_DIR, { recursive: true });
  console.error(`installing ansible-core==${ANSIBLE_CORE_VERSION} into ${venv} …`);
  await execFileP('python3', ['-m', 'venv', venv]);
  await execFileP(path.join(venv, 'bin', 'pip'), [
    'install',
    '-q',
    '--disable-pip-version-check',
    `ansible-core==${ANSIBLE_CORE_VERSION}`,
  ]);
  return bin;
}

/** parallel-ssh (Debian's pssh); the setup (.ci/run) installs it with apt. */
export async function ensureParallelSsh(): Promise<string> {
  for (const p of ['/usr/bin/parallel-ssh', '/usr/bin/pssh']) if (existsSync(p)) return p;
  throw new Error('parallel-ssh not found: apt-get install pssh (the benchmark setup in .ci/run does)');
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code === 0) resolve(s);
      else reject(new Error(`${path.basename(cmd)} exited ${code}: ${err}`));
    });
  });
}

/**
 * Tuned Ansible: `serial` = window, forks = window, no facts, pipelining, ControlPersist (masters kept between
 * runs, as a tuned control node would), host keys checked against the farm's known_hosts.
 */
export async function runAnsible(
  ansiblePlaybook: string,
  dir: string,
  targets: TargetPlan[],
  window: number,
  scripts: string[],
): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const cp = path.join(path.dirname(dir), 'ansible-cp');
  mkdirSync(cp, { recursive: true });
  const first = targets[0]!;
  writeFileSync(
    path.join(dir, 'ansible.cfg'),
    [
      '[defaults]',
      `forks = ${window}`,
      'host_key_checking = True',
      'interpreter_python = /usr/bin/python3',
      'retry_files_enabled = False',
      '[ssh_connection]',
      'pipelining = True',
      `ssh_args = -o ControlMaster=auto -o ControlPersist=120s -o UserKnownHostsFile=${first.knownHostsPath} -o StrictHostKeyChecking=yes`,
      `control_path_dir = ${cp}`,
      '',
    ].join('\n'),
  );
  const hosts = Object.fromEntries(
    targets.map((t) => [
      t.name,
      {
        ansible_host: t.host,
        ansible_port: t.port,
        ansible_user: t.user,
        ansible_ssh_private_key_file: t.privateKeyPath,
      },
    ]),
  );
  writeFileSync(path.join(dir, 'inventory.json'), JSON.stringify({ all: { hosts } }));
  writeFileSync(
    path.join(dir, 'play.json'),
    JSON.stringify([
      {
        hosts: 'all',
        serial: window,
        gather_facts: false,
        tasks: scripts.map((s, i) => ({ name: `c${i + 1}`, shell: s })),
      },
    ]),
  );
  return run(ansiblePlaybook, ['-i', path.join(dir, 'inventory.json'), path.join(dir, 'play.json')], {
    ...process.env,
    ANSIBLE_CONFIG: path.join(dir, 'ansible.cfg'),
    ANSIBLE_NOCOLOR: '1',
  });
}

/** A bare pool: parallel-ssh with `window` sessions, each target's child steps as one command. */
export async function runParallelSsh(
  pssh: string,
  dir: string,
  targets: TargetPlan[],
  window: number,
  scripts: string[],
): Promise<number> {
  mkdirSync(dir, { recursive: true });
  const hostsFile = path.join(dir, 'hosts');
  writeFileSync(hostsFile, targets.map((t) => `${t.user}@${t.host}:${t.port}`).join('\n') + '\n');
  const first = targets[0]!;
  return run(pssh, [
    '-h',
    hostsFile,
    '-p',
    String(window),
    '-t',
    '0',
    '-O',
    `IdentityFile=${first.privateKeyPath}`,
    '-O',
    `UserKnownHostsFile=${first.knownHostsPath}`,
    '-O',
    'StrictHostKeyChecking=yes',
    scripts.map((s) => `{ ${s}; }`).join(' && '),
  ]);
}
