// The config file's shape. One file (YAML or JSON) declares targets, groups and deployables.
import { z } from 'zod';
import { SECRET_ENV_NAME, type SecretRef } from '../../domain/secrets';
import { hostProblem, keyMaterialProblem, USER_PATTERN, USER_RULE, WORKDIR_PATTERN, WORKDIR_RULE } from './safeValues';

const name = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/,
    'must start with a letter or digit and hold only letters, digits, _ . - (at most 63)',
  );

/** A host, a user, a workdir, a key or known_hosts path: values that reach ssh and the shell (see safeValues.ts). */
const host = z.string().superRefine((v, ctx) => {
  const problem = hostProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});
const user = z.string().regex(USER_PATTERN, USER_RULE);
const workdir = z.string().regex(WORKDIR_PATTERN, WORKDIR_RULE);
const filePath = z.string().superRefine((v, ctx) => {
  const problem = keyMaterialProblem(v);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Who: a user id (Slack `U…`, or `cli:<name>` style identities) or `@group` (a name declared under groups:). */
const who = z
  .string()
  .regex(/^@?[A-Za-z0-9][A-Za-z0-9._:+-]{0,99}$/, 'must be a user id or @group (letters, digits, . _ : + -)');

/**
 * A group: its members, or a Slack user group `{ slack: <handle or S… id> }` (expanded by the bot through Slack).
 * Declaring Slack groups makes an `@name` that is not declared decidable: it is a config error.
 */
const group = z.union([
  z.array(who.regex(/^[^@]/, 'a group lists user ids, not other groups')),
  z.strictObject({
    slack: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$/, 'must be a Slack user group handle or id'),
  }),
]);

export const DEFAULT_SCRIPT_TIMEOUT_SEC = 600;

const runCondition = z.enum(['success', 'failure', 'always']);
const onFailure = z.enum(['guided', 'fail']);

/** A count (≥ 1) or a percentage string like "25%". */
const windowSpec = z.union([
  z.number().int('must be a whole number').min(1, 'must be ≥ 1'),
  z
    .string()
    .regex(/^\d{1,3}(\.\d+)?%$/, 'must be a count ≥ 1 or a percentage like "25%"')
    .refine((s) => {
      const p = Number(s.slice(0, -1));
      return p > 0 && p <= 100;
    }, 'percentage must be > 0% and ≤ 100%'),
]);

/**
 * A ramp: the window as a list that grows (`[1, 2, "25%"]`: one canary, then two at a time, then a quarter; the
 * last entry repeats), and what holds each next stage back: a bake time, a manual Proceed / Abort, or both.
 */
const rampWindows = z.array(windowSpec).min(1, 'a ramp needs at least one window').max(20, 'at most 20 stages');
const rampSpec = z.strictObject({
  window: rampWindows,
  between: z
    .union([
      z.literal('manual'),
      z.strictObject({
        bakeSec: z
          .number()
          .int('must be a whole number')
          .min(1, 'must be ≥ 1')
          .max(7 * 24 * 3600)
          .optional(),
        manual: z.boolean().optional(),
      }),
    ])
    .optional(),
});

/** Absolute freeze times carry their zone (`2025-12-20T00:00:00Z`, `…+01:00`): a bare local time is ambiguous. */
const isoTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 time with a zone, like 2025-12-20T00:00:00Z',
});

/** A deploy freeze: from (inclusive) until (exclusive), and the reason shown to whoever is refused. */
const freeze = z.strictObject({
  name: name.optional(),
  from: isoTime,
  until: isoTime,
  reason: z.string().min(1, 'must not be empty').max(500),
});

const scriptFields = {
  script: z.string().min(1, 'must not be empty'),
  timeoutSec: z
    .number()
    .int()
    .min(1, 'must be ≥ 1')
    .max(7 * 24 * 3600)
    .optional(),
  runCondition: runCondition.default('success'),
  if: z.string().min(1).optional(),
  onFailure: onFailure.optional(),
};

/**
 * An artifact (instead of a script): a worker file copied to the target over SFTP, its SHA-256 verified there
 * before it is placed in `<dir>/<release>/` (the newest `keep` releases kept). The checksum is `sha256` (hex,
 * variables allowed) or read from `sha256File` on the worker (default `<source>.sha256`).
 */
const artifact = z
  .strictObject({
    source: z.string().min(1, 'must not be empty'),
    sha256: z.string().min(1).optional(),
    sha256File: z.string().min(1).optional(),
    dir: z
      .string()
      .regex(
        /^[A-Za-z0-9_][A-Za-z0-9_.-]*(\/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$/,
        'must be a relative path under the workdir (letters, digits, _ . - and /)',
      )
      .default('releases'),
    keep: z.number().int('must be a whole number').min(1, 'must be ≥ 1').max(100).default(3),
  })
  .refine((a) => a.sha256 === undefined || a.sha256File === undefined, {
    message: 'give sha256 or sha256File, not both',
    path: ['sha256File'],
  });

/** A child step runs a `script`, or copies an `artifact` (exactly one of the two). */
export const childStepSchema = z
  .strictObject({ name, ...scriptFields, script: scriptFields.script.optional(), artifact: artifact.optional() })
  .superRefine((c, ctx) => {
    if ((c.script === undefined) === (c.artifact === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a child step needs a script or an artifact (one of the two)',
        path: ['script'],
      });
    }
  });

const scriptStep = z.strictObject({
  type: z.literal('script').default('script'),
  name,
  tags: z.array(name).default([]),
  maxParallelism: z.number().int('must be a whole number').min(1, 'must be ≥ 1').optional(),
  ...scriptFields,
});

const rollingStep = z.strictObject({
  type: z.literal('rolling'),
  name,
  tags: z.array(name).default([]),
  /** A sliding window, or a list (a ramp without anything between its stages); `ramp` for the long form. */
  window: z.union([windowSpec, rampWindows]).optional(),
  ramp: rampSpec.optional(),
  runCondition: runCondition.default('success'),
  if: z.string().min(1).optional(),
  onFailure: onFailure.optional(),
  childSteps: z.array(childStepSchema).min(1, 'a rolling step needs at least one child step'),
});

const manualStep = z.strictObject({
  type: z.literal('manual'),
  name,
  instructions: z.string().min(1, 'must not be empty'),
  approvers: z.array(who).default([]),
  timeoutSec: z.number().int().min(1, 'must be ≥ 1').optional(),
  onTimeout: z.enum(['proceed', 'abort']).default('abort'),
  runCondition: runCondition.default('success'),
  if: z.string().min(1).optional(),
  /** Four eyes: whoever started the rollout may not Proceed here (someone else approves; the starter may Abort). */
  fourEyes: z.boolean().default(false),
});

/**
 * A variable taken from the worker (domain/secrets.ts): `{ fromEnv: NAME, sensitive: true }`,
 * `{ fromFile: /abs/path, sensitive: true }`, or a literal to mask `{ value: "…", sensitive: true }`.
 */
const secretRef = z
  .strictObject({
    fromEnv: z.string().regex(SECRET_ENV_NAME, 'must be an environment variable name (letters, digits, _)').optional(),
    fromFile: filePath
      .refine((v) => v.startsWith('/'), 'must be an absolute path on the worker (a secret file is read there)')
      .optional(),
    value: z.string().optional(),
    sensitive: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    const given = (['fromEnv', 'fromFile', 'value'] as const).filter((k) => v[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `give exactly one of fromEnv, fromFile or value${given.length ? ` (got ${given.join(' and ')})` : ''}`,
      });
    } else if (v.value !== undefined && v.sensitive !== true) {
      ctx.addIssue({
        code: 'custom',
        path: ['sensitive'],
        message: 'a { value } variable must say sensitive: true (a plain value is written as a string)',
      });
    }
  })
  .transform((v): SecretRef => {
    if (v.fromEnv !== undefined) return { fromEnv: v.fromEnv, sensitive: v.sensitive !== false };
    if (v.fromFile !== undefined) return { fromFile: v.fromFile, sensitive: v.sensitive !== false };
    return { value: v.value ?? '', sensitive: true };
  });

// One value: plain (string, number, boolean) or a reference; a bad reference's problems name its own fields.
const variableValue = z.unknown().transform((v, ctx): string | SecretRef => {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const r = secretRef.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) {
      ctx.addIssue({ code: 'custom', message: issue.message, path: issue.path as PropertyKey[] });
    }
    return z.NEVER;
  }
  ctx.addIssue({
    code: 'custom',
    message: 'must be a string, a number, a boolean, or { fromEnv | fromFile | value, sensitive: true }',
  });
  return z.NEVER;
});

const variables = z.record(z.string(), variableValue).default({});
const plainVariables = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
  .default({});

/** A script run once on the worker's host (the local transport), not on a target. */
const workerHook = z.strictObject({
  script: z.string().min(1, 'must not be empty'),
  timeoutSec: z
    .number()
    .int()
    .min(1, 'must be ≥ 1')
    .max(7 * 24 * 3600)
    .optional(),
});

/**
 * Double-half deployment: provision a new half, deploy and sanity-check it, add it to the load balancer, then drain
 * and decommission the old half (see domain/doubleHalf.ts and the README).
 */
const doubleHalfStep = z.strictObject({
  type: z.literal('double-half'),
  name,
  /** The old half: the deployable's targets with one of these tags (all of them when empty). */
  tags: z.array(name).default([]),
  /** Sliding window over the new targets (default: all at once). */
  window: windowSpec.optional(),
  runCondition: runCondition.default('success'),
  if: z.string().min(1).optional(),
  onFailure: onFailure.optional(),
  /** Workdir of the hooks on the worker's host (relative: to the config file's directory). */
  hookWorkdir: workdir.optional(),
  provision: workerHook,
  addToLoadBalancer: workerHook,
  decommission: workerHook,
  /** Connection settings of every new target; host keys are always checked against knownHostsPath. */
  newTargets: z
    .strictObject({
      user,
      privateKeyPath: filePath.optional(),
      privateKeyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      knownHostsPath: filePath,
      workdir: workdir.optional(),
      tags: z.array(name).default([]),
      // Plain values only: secrets by reference are declared on the deployable (or its configured targets).
      variables: plainVariables,
    })
    .refine((t) => t.privateKeyPath !== undefined || t.privateKeyEnv !== undefined, {
      message: 'needs privateKeyPath or privateKeyEnv',
    }),
  childSteps: z.array(childStepSchema).min(1, 'a double-half step needs at least one child step (the deploy)'),
});

// A step without `type` is a script step; the discriminator keeps error messages about the right variant.
const step = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('type' in v) ? { ...v, type: 'script' } : v),
  z.discriminatedUnion('type', [scriptStep, rollingStep, manualStep, doubleHalfStep]),
);

const target = z.strictObject({
  transport: z.enum(['ssh', 'local']).default('ssh'),
  host: host.optional(),
  port: z.number().int().min(1).max(65535).default(22),
  user: user.optional(),
  tags: z.array(name).default([]),
  workdir: workdir.optional(),
  privateKeyPath: filePath.optional(),
  privateKeyEnv: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
    .optional(),
  knownHostsPath: filePath.optional(),
  strictHostKeyChecking: z.boolean().optional(),
  variables,
  /**
   * A target shared with other deployables: `true` locks it by host:port, a name locks every target declaring
   * that name together. Rollouts then take turns on it (one rollout's chain at a time).
   */
  shared: z.union([z.boolean(), name]).optional(),
});

/** A duration: seconds as a number, or `30s`, `15m`, `1h`, `2d` (whole units). */
export const duration = z
  .union([
    z.number().int('must be a whole number of seconds').min(1, 'must be ≥ 1 second'),
    z.string().regex(/^\d{1,6}[smhd]$/, 'must be a duration like 30s, 15m, 1h or 2d (or a number of seconds)'),
  ])
  .transform((v) =>
    typeof v === 'number' ? v : Number(v.slice(0, -1)) * { s: 1, m: 60, h: 3600, d: 86_400 }[v.slice(-1) as 's'],
  )
  .refine((sec) => sec <= 30 * 86_400, 'must be at most 30 days');

/**
 * Reminders on a pending decision: its approvers are mentioned again in the thread `after` it was asked, and
 * `escalateAfter` it was asked it is escalated to `escalateTo`: a channel (`#ops-oncall` or a channel id `C…`,
 * posted there with a link to the thread) or a declared `@group` (its members mentioned in the thread).
 */
const reminders = z
  .strictObject({
    after: duration,
    escalateAfter: duration.optional(),
    escalateTo: z
      .string()
      .regex(
        /^(#[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,30}|@[A-Za-z0-9][A-Za-z0-9._:+-]{0,99})$/,
        'must be a #channel, a channel id (C…) or an @group',
      )
      .optional(),
  })
  .refine((r) => (r.escalateAfter === undefined) === (r.escalateTo === undefined), {
    message: 'escalateAfter and escalateTo go together',
    path: ['escalateTo'],
  })
  .refine((r) => r.escalateAfter === undefined || r.escalateAfter > r.after, {
    message: 'must be later than after',
    path: ['escalateAfter'],
  });

/**
 * A release check: a script run on the worker's own machine before anything else (does the release exist? is its
 * checksum published?). If it fails, no target is touched and the rollout fails.
 */
const releaseCheck = z.strictObject({
  script: z.string().min(1, 'must not be empty'),
  timeoutSec: z
    .number()
    .int()
    .min(1, 'must be ≥ 1')
    .max(24 * 3600)
    .optional(),
  /** Where it runs on the worker (default: `defaults.workdir` under the worker's home). */
  workdir: workdir.optional(),
});

/** The name of the implicit manual step a four-eyes environment puts first in its process (see buildPlan). */
export const START_APPROVAL_STEP = 'start-approval';
/** The variable a rollout in an environment carries its name in (`#{Environment}` in scripts). */
export const ENVIRONMENT_VARIABLE = 'Environment';

/**
 * An environment of a deployable (`staging`, `production`): its own targets, variables, starters, approvers and
 * Slack channel; what it leaves out it takes from the deployable. `fourEyes`: a rollout here starts with an
 * implicit manual step (START_APPROVAL_STEP) that someone other than its starter must approve.
 */
const environment = z.strictObject({
  description: z.string().optional(),
  targets: z.array(z.string().min(1)).min(1, 'an environment needs at least one target').optional(),
  variables,
  starters: z.array(who).optional(),
  approvers: z.array(who).optional(),
  /** The Slack channel (id, `C…`) its rollouts are posted in, whichever channel the command came from. */
  channel: z
    .string()
    .regex(/^[CG][A-Z0-9]{2,20}$/, 'must be a Slack channel id like C0123ABCD')
    .optional(),
  fourEyes: z.boolean().default(false),
});

const deployableObject = z.strictObject({
  description: z.string().optional(),
  /** Target names, or `tag:<tag>` for every target carrying that tag (with environments: theirs, when they give none). */
  targets: z.array(z.string().min(1)).default([]),
  variables,
  onFailure: onFailure.default('guided'),
  failureBudget: windowSpec.optional(),
  /** Who may start this deployable (Slack user ids, `@group`, `cli:<name>`); empty = anyone. */
  starters: z.array(who).default([]),
  /** Who may answer its decisions; empty = anyone who may start it. */
  approvers: z.array(who).default([]),
  /** Time windows in which rollouts are refused and a running one holds (nothing new starts until the end). */
  freezes: z.array(freeze).default([]),
  /** Who may start a rollout during a freeze, giving a reason that is recorded; empty = nobody. */
  freezeOverriders: z.array(z.string().min(1)).default([]),
  reminders: reminders.optional(),
  releaseCheck: releaseCheck.optional(),
  process: z.array(step).min(1, 'a process needs at least one step'),
  /** Environments (optional): then every rollout names one (`/rollout web-farm v2 production`). */
  environments: z.record(name, environment).optional(),
  /**
   * The order releases go through the environments: each accepts only a release that succeeded in the one
   * before it (`/rollout promote` rolls a release into the next).
   */
  lifecycle: z.array(name).min(1, 'a lifecycle lists at least one environment').optional(),
});

const deployable = deployableObject.superRefine((d, ctx) => {
  const envs = d.environments ?? {};
  if (d.targets.length === 0 && !d.environments) {
    ctx.addIssue({ code: 'custom', path: ['targets'], message: 'a deployable needs at least one target' });
  }
  for (const [env, e] of Object.entries(envs)) {
    if (d.targets.length === 0 && !e.targets) {
      ctx.addIssue({
        code: 'custom',
        path: ['environments', env, 'targets'],
        message: 'is required when the deployable lists no targets of its own',
      });
    }
  }
  if (d.lifecycle && !d.environments) {
    ctx.addIssue({ code: 'custom', path: ['lifecycle'], message: 'a lifecycle needs environments: declare them' });
  }
  const seen = new Set<string>();
  (d.lifecycle ?? []).forEach((env, i) => {
    if (d.environments && !Object.prototype.hasOwnProperty.call(envs, env)) {
      const known = Object.keys(envs).join(', ') || 'none';
      ctx.addIssue({
        code: 'custom',
        path: ['lifecycle', i],
        message: `"${env}" is not one of its environments (${known})`,
      });
    }
    if (seen.has(env)) ctx.addIssue({ code: 'custom', path: ['lifecycle', i], message: `"${env}" is listed twice` });
    seen.add(env);
  });
  const fourEyesEnv = Object.values(envs).some((e) => e.fourEyes);
  d.process.forEach((s, i) => {
    if (fourEyesEnv && s.name === START_APPROVAL_STEP) {
      ctx.addIssue({
        code: 'custom',
        path: ['process', i, 'name'],
        message: `"${START_APPROVAL_STEP}" is the step a four-eyes environment adds: name this step otherwise`,
      });
    }
  });
});

export const configSchema = z.strictObject({
  temporal: z
    .strictObject({
      address: z.string().min(1).optional(),
      namespace: z.string().min(1).default('default'),
      taskQueue: z.string().min(1).default('rollout'),
    })
    .default({ namespace: 'default', taskQueue: 'rollout' }),
  ssh: z
    .strictObject({
      user: user.optional(),
      privateKeyPath: filePath.optional(),
      privateKeyEnv: z
        .string()
        .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name')
        .optional(),
      knownHostsPath: filePath.optional(),
      strictHostKeyChecking: z.boolean().default(true),
    })
    .default({ strictHostKeyChecking: true }),
  defaults: z
    .strictObject({
      scriptTimeoutSec: z.number().int().min(1).default(DEFAULT_SCRIPT_TIMEOUT_SEC),
      workdir: workdir.default('.rollout'),
    })
    .default({ scriptTimeoutSec: DEFAULT_SCRIPT_TIMEOUT_SEC, workdir: '.rollout' }),
  groups: z.record(name, group).default({}),
  targets: z.record(name, target),
  deployables: z.record(name, deployable),
});

export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedStep = ParsedConfig['deployables'][string]['process'][number];
