// What every command gets injected: the validated environment, output streams and a way to reach Temporal.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { ConfigError, loadConfigFile, parseConfigText, type Config, type LoadOptions } from '../config/load';
import { configSchema } from '../config/schema';
import type { Env } from '../env';
import type { ConnectOptions, TemporalConnection } from '../temporal/connect';
import type { TemporalSection, TemporalSettings } from '../temporal/settings';

export interface CliContext {
  env: Env;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Default: connectTemporal(env, opts) with stderr = ctx.stderr. */
  connect?: (opts: ConnectOptions) => Promise<TemporalConnection>;
  /** Stops long-running commands (worker, start --wait); main wires it to SIGINT/SIGTERM. */
  signal?: AbortSignal;
}

export { EXIT } from './exit';

export function out(ctx: CliContext, line = ''): void {
  ctx.stdout.write(`${line}\n`);
}

export function err(ctx: CliContext, line: string): void {
  ctx.stderr.write(`${line}\n`);
}

/** Who the CLI acts as by default: `cli:<os user name>`. */
export function defaultActor(env: Pick<Env, 'USER' | 'LOGNAME'>): string {
  let name: string | undefined;
  try {
    name = os.userInfo().username;
  } catch {
    name = env.USER ?? env.LOGNAME;
  }
  return `cli:${name || 'unknown'}`;
}

/** The config file named by `--config` or ROLLOUT_CONFIG, if any. */
export function configFileOf(ctx: CliContext, flag?: string): string | undefined {
  return flag ?? ctx.env.ROLLOUT_CONFIG;
}

/** Prints a ConfigError's problems, one per line, after a header naming the file. */
export function printConfigError(ctx: CliContext, e: ConfigError): void {
  err(ctx, `${e.source}: invalid config (${e.problems.length} problem${e.problems.length === 1 ? '' : 's'}):`);
  for (const p of e.problems) err(ctx, p);
}

/**
 * Loads and validates a config file; prints its problems and returns undefined when it is invalid, and prints
 * its warnings (to stderr) when it is valid. `checkFiles`: see LoadOptions (validate and worker).
 */
export function loadConfigOrReport(ctx: CliContext, file: string, opts: LoadOptions = {}): Config | undefined {
  try {
    const config = loadConfigFile(file, opts);
    for (const w of config.warnings) err(ctx, `${config.source}: warning: ${w}`);
    return config;
  } catch (e) {
    if (e instanceof ConfigError) {
      printConfigError(ctx, e);
      return undefined;
    }
    throw e;
  }
}

/**
 * For commands that only need to reach Temporal (status, cancel, decide): the config file's `temporal:` section
 * if one is named, read leniently (the rest of the file may be mid-edit; that must not block a status query).
 */
export function readTemporalSection(ctx: CliContext, file: string | undefined): TemporalSection | undefined {
  if (!file) return undefined;
  try {
    const raw = parseConfigText(readFileSync(file, 'utf8'), file) as { temporal?: unknown } | null;
    const parsed = configSchema.shape.temporal.safeParse(raw && typeof raw === 'object' ? raw.temporal : undefined);
    if (parsed.success) return parsed.data;
    err(
      ctx,
      `rollout: warning: ignoring the temporal section of ${file}: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  } catch (e) {
    err(
      ctx,
      `rollout: warning: cannot read ${file} (${(e as Error).message.split('\n')[0]}); using the environment only`,
    );
  }
  return undefined;
}

export function connectWith(ctx: CliContext, settings: TemporalSettings, ui = true): Promise<TemporalConnection> {
  const opts: ConnectOptions = {
    ui,
    namespace: settings.namespace,
    stderr: ctx.stderr,
    ...(settings.address ? { address: settings.address } : {}),
  };
  if (ctx.connect) return ctx.connect(opts);
  // Imported when first needed: commands that never connect (validate, --help) do not load the Temporal client.
  return import('../temporal/connect').then((m) => m.connectTemporal(ctx.env, opts));
}
