// The config file's shape. One file (YAML or JSON) declares targets, groups and deployables.
import { z } from 'zod';
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

export const childStepSchema = z.strictObject({ name, ...scriptFields });

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

// A step without `type` is a script step; the discriminator keeps error messages about the right variant.
const step = z.preprocess(
  (v) => (v && typeof v === 'object' && !Array.isArray(v) && !('type' in v) ? { ...v, type: 'script' } : v),
  z.discriminatedUnion('type', [scriptStep, rollingStep, manualStep]),
);

const variables = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({});

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
