// The process environment, read and validated ONCE at start-up. Everything else takes the resulting `Env`
// (never process.env), so tests can inject their own. An empty variable counts as unset.
import { z } from 'zod';

const optionalString = z.string().min(1).optional();

const portBase = z
  .string()
  .regex(/^\d+$/, 'must be a whole number')
  .transform(Number)
  .refine((n) => n >= 1024 && n + 1000 <= 65535, 'must be between 1024 and 64535 (the UI listens on base+1000)')
  .optional();

/** A TCP port, or `off`. */
const portOrOff = z
  .string()
  .regex(/^(\d{1,5}|off)$/, 'must be a port number or off')
  .transform((s) => (s === 'off' ? ('off' as const) : Number(s)))
  .refine((p) => p === 'off' || (p >= 1 && p <= 65535), 'must be between 1 and 65535 (or off)')
  .optional();

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export const envSchema = z.object({
  /** `host:port` of a Temporal frontend; unset = the embedded dev server. */
  TEMPORAL_ADDRESS: z
    .string()
    .regex(/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/, 'must be host:port (e.g. temporal.internal:7233)')
    .optional(),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  // Temporal's standard client settings (the same names every Temporal SDK and the CLI read), handed to
  // @temporalio/envconfig by src/temporal/settings.ts: Temporal Cloud (API key or mTLS) and self-hosted TLS.
  /** API key (Temporal Cloud); implies TLS. */
  TEMPORAL_API_KEY: optionalString,
  /** `true`/`1` or `false`/`0`: force TLS on or off. */
  TEMPORAL_TLS: z.enum(['true', 'false', '1', '0']).optional(),
  TEMPORAL_TLS_CLIENT_CERT_PATH: optionalString,
  TEMPORAL_TLS_CLIENT_CERT_DATA: optionalString,
  TEMPORAL_TLS_CLIENT_KEY_PATH: optionalString,
  TEMPORAL_TLS_CLIENT_KEY_DATA: optionalString,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalString,
  TEMPORAL_TLS_SERVER_CA_CERT_DATA: optionalString,
  TEMPORAL_TLS_SERVER_NAME: optionalString,
  /** A `temporal.toml` client config file (default: `~/.config/temporalio/temporal.toml`). */
  TEMPORAL_CONFIG_FILE: optionalString,
  /** The profile of that file to use (default: `default`). */
  TEMPORAL_PROFILE: optionalString,
  ROLLOUT_TASK_QUEUE: z.string().min(1).default('rollout'),
  /** Default config file for commands that need one. */
  ROLLOUT_CONFIG: optionalString,
  /** Where the embedded dev server keeps its db, log and record (and pip installs the Temporal CLI). */
  ROLLOUT_STATE_DIR: z.string().min(1).default('.rollout'),
  /** Base port of the embedded dev server (gRPC base, HTTP +10, metrics +20, UI +1000). */
  ROLLOUT_DEV_PORT_BASE: portBase,
  /** Level of every log line (pino's levels); the Temporal SDK's own messages also need ROLLOUT_LOG_LEVEL. */
  LOG_LEVEL: z
    .string()
    .transform((s) => s.toLowerCase())
    .pipe(z.enum(LOG_LEVELS))
    .default('info'),
  /** `json` (one JSON object a line) or `pretty` (for people); default: pretty when stdout is a terminal. */
  ROLLOUT_LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  /**
   * Level of the Temporal SDK's own messages (worker lifecycle, Core), which log every state change at INFO; what
   * rollout code logs (workflows, activities, bot) follows LOG_LEVEL alone.
   */
  ROLLOUT_LOG_LEVEL: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR']))
    .default('WARN'),
  /**
   * Workers: how long a target may stay unreachable while a script's outcome is unknown before the rollout asks a
   * human (seconds, default 300). Scripts are never re-run by themselves.
   */
  ROLLOUT_LOST_CONTACT_BOUND_SEC: z
    .string()
    .regex(/^\d+$/, 'must be a whole number of seconds')
    .transform(Number)
    .optional(),
  /** Port of the worker's Prometheus endpoint (`/metrics`, default 9464), or `off`. */
  ROLLOUT_METRICS_PORT: portOrOff,
  /** Port of the worker's `/healthz` and `/readyz` (default 9090), or `off`. The bot serves them on PORT. */
  ROLLOUT_HEALTH_PORT: portOrOff,
  // Slack (used by the bot; optional until it exists).
  SLACK_BOT_TOKEN: optionalString,
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString,
  SLACK_API_URL: optionalString,
  PORT: optionalString,
  /** A workflow bundle made by `rollout bundle` (the image's); unset = workers bundle workflows/ at start. */
  ROLLOUT_WORKFLOW_BUNDLE: optionalString,
  /** Base URL of the Temporal Web UI, for links in the root message (the embedded server's is known). */
  ROLLOUT_TEMPORAL_UI_URL: optionalString,
  /** Set: the CLI prints the stack of an unexpected error. */
  ROLLOUT_DEBUG: optionalString,
  /** The login name, for the CLI's default identity (`cli:<name>`) when the OS user database has none. */
  USER: optionalString,
  LOGNAME: optionalString,
  // Where the Temporal binaries are found (src/temporal/binaries.ts): explicit paths, then PATH, skipping pyenv shims.
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_TEST_SERVER_PATH: optionalString,
  PATH: optionalString,
  PYENV_ROOT: optionalString,
});

export type EnvVars = z.output<typeof envSchema>;
export type EnvName = keyof EnvVars;

export interface Env extends EnvVars {
  /** The variables actually set (non-empty) in the source, so callers can tell a default from an explicit value. */
  readonly explicit: ReadonlySet<EnvName>;
  /**
   * What @temporalio/envconfig reads, as set in the source: every `TEMPORAL_*` variable (including
   * `TEMPORAL_GRPC_META_*` headers) and the variables that locate the default `temporal.toml` (HOME,
   * XDG_CONFIG_HOME, APPDATA).
   */
  readonly temporalClientEnv: Readonly<Record<string, string>>;
}

export class EnvError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'EnvError';
  }
}

const NAMES = Object.keys(envSchema.shape) as EnvName[];
const TOML_LOCATION = ['HOME', 'XDG_CONFIG_HOME', 'APPDATA'];

/** Reads and validates the environment; throws EnvError naming every bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv | Record<string, string | undefined> = process.env): Env {
  const picked: Record<string, string> = {};
  for (const name of NAMES) {
    const v = source[name];
    if (v !== undefined && v !== '') picked[name] = v;
  }
  const parsed = envSchema.safeParse(picked);
  if (!parsed.success) {
    throw new EnvError(
      parsed.error.issues.map((i) => {
        const name = String(i.path[0] ?? '(environment)');
        // Never echo a secret's value.
        const value = /TOKEN|SECRET|KEY|DATA/.test(name) ? undefined : picked[name];
        return `${name}: ${i.message}${value !== undefined ? ` (got ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)})` : ''}`;
      }),
    );
  }
  const temporalClientEnv: Record<string, string> = {};
  for (const [name, v] of Object.entries(source)) {
    if (v !== undefined && v !== '' && (name.startsWith('TEMPORAL_') || TOML_LOCATION.includes(name)))
      temporalClientEnv[name] = v;
  }
  // An empty TEMPORAL_GRPC_META_X means "remove header X" to envconfig: keep those.
  for (const [name, v] of Object.entries(source))
    if (v === '' && name.startsWith('TEMPORAL_GRPC_META_')) temporalClientEnv[name] = v;
  return { ...parsed.data, explicit: new Set(Object.keys(picked) as EnvName[]), temporalClientEnv };
}

/**
 * This process's environment plus `extra`, for helper processes that must inherit it (the dev harness's app
 * servers and load balancer). Here so that process.env is read in this file only.
 */
export function inheritedEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...extra };
}

/**
 * The worker's environment as secret references (`{ fromEnv: NAME }`) see it: read at resolution time, so a
 * value set for a restarted worker is what the next script gets. Here so that process.env is read in this file
 * only; scripts never inherit the worker's environment, they get exactly the variables they reference.
 */
export function secretEnvironment(): Readonly<Record<string, string | undefined>> {
  return process.env;
}
