// Secrets by reference: config shapes and refusals, plans that hold references only, and the script activity that
// resolves them on the worker and masks them (and what a script marks) in everything it returns or throws.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScriptActivities, type RunScriptInput, type RunScriptOutput } from '../../activities/scripts';
import { workerSecretSource, type SecretSource } from '../../activities/secrets';
import { LocalTransport } from '../../activities/transports/local';
import type { TargetPlan } from '../../domain/plan';
import { ConfigError, validateConfig } from '../../src/config/load';
import { buildPlan, RequestError } from '../../src/config/plan';

let dir: string;
let secretFile: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'rollout-secrets-'));
  secretFile = path.join(dir, 'token');
  await writeFile(secretFile, 'file-s3cret-value\n');
});

const config = (variables: Record<string, unknown>, targetVariables: Record<string, unknown> = {}) => ({
  targets: { web1: { transport: 'local', workdir: '/tmp/sec-test/web1', variables: targetVariables } },
  deployables: {
    app: { targets: ['web1'], variables, process: [{ name: 'run', script: 'echo #{DB_PASSWORD}' }] },
  },
});

const problemsOf = (input: unknown): string[] => {
  try {
    validateConfig(input, 'test', '/');
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
};

describe('config: secret references', () => {
  it('accepts fromEnv, fromFile and { value, sensitive } and keeps only references in the plan', () => {
    const cfg = validateConfig(
      config(
        {
          DB_PASSWORD: { fromEnv: 'DB_PASSWORD', sensitive: true },
          TOKEN: { fromFile: '/run/secrets/token', sensitive: true },
          BANNER: { value: 'masked-literal', sensitive: true },
          PLAIN: 'x',
        },
        { HOSTPW: { fromEnv: 'HOST_PW' } },
      ),
      'test',
      '/',
    );
    const plan = buildPlan(cfg, { deployable: 'app', release: 'v1', requestedBy: 'U1' });
    expect(plan.variables).toEqual({ PLAIN: 'x' });
    expect(plan.targets[0]!.secrets).toEqual({
      DB_PASSWORD: { fromEnv: 'DB_PASSWORD', sensitive: true },
      TOKEN: { fromFile: '/run/secrets/token', sensitive: true },
      BANNER: { value: 'masked-literal', sensitive: true },
      HOSTPW: { fromEnv: 'HOST_PW', sensitive: true },
    });
  });

  it.each<[string, unknown, RegExp]>([
    [
      'an invalid env name',
      { fromEnv: 'DB-PASSWORD', sensitive: true },
      /variables\.V\.fromEnv: must be an environment variable name/,
    ],
    [
      'a relative file',
      { fromFile: 'secrets/db', sensitive: true },
      /variables\.V\.fromFile: must be an absolute path/,
    ],
    [
      'key material as the file',
      { fromFile: '-----BEGIN OPENSSH PRIVATE KEY-----', sensitive: true },
      /variables\.V\.fromFile/,
    ],
    [
      'two sources',
      { fromEnv: 'A', fromFile: '/a', sensitive: true },
      /variables\.V: give exactly one of fromEnv, fromFile or value \(got fromEnv and fromFile\)/,
    ],
    [
      'a value not marked sensitive',
      { value: 'x' },
      /variables\.V\.sensitive: a \{ value \} variable must say sensitive: true/,
    ],
    ['an unknown key', { fromEnvv: 'A' }, /variables\.V: Unrecognized key/],
    ['an array', ['a'], /variables\.V: must be a string, a number, a boolean, or \{ fromEnv/],
  ])('refuses %s, naming the path', (_what, v, re) => {
    expect(problemsOf(config({ DB_PASSWORD: 'p', V: v })).join('\n')).toMatch(re);
  });

  it('refuses MaxParallelism as a secret, and a request that sets a sensitive variable', () => {
    expect(problemsOf(config({ DB_PASSWORD: 'p', MaxParallelism: { fromEnv: 'MP' } })).join('\n')).toMatch(
      /variables\.MaxParallelism: MaxParallelism is read by the workflow/,
    );
    const cfg = validateConfig(config({ DB_PASSWORD: { fromEnv: 'DB_PASSWORD', sensitive: true } }), 'test', '/');
    expect(() =>
      buildPlan(cfg, { deployable: 'app', release: 'v1', requestedBy: 'U1', variables: { DB_PASSWORD: 'x' } }),
    ).toThrow(RequestError);
  });
});

describe('the script activity resolves and masks', () => {
  const local = new LocalTransport();
  afterAll(() => local.close());
  const target = (secrets: TargetPlan['secrets'], name = 'web1'): TargetPlan => ({
    name,
    transport: 'local',
    host: 'localhost',
    port: 22,
    user: '',
    tags: [],
    workdir: path.join(dir, name),
    strictHostKeyChecking: false,
    variables: {},
    ...(secrets ? { secrets } : {}),
  });
  const input = (t: TargetPlan, script: string): RunScriptInput => ({
    rolloutId: 'r1',
    stepName: 's',
    child: { name: 'c', script, timeoutSec: 30, runCondition: 'success', onFailure: 'guided' },
    target: t,
    release: 'v1',
    deployable: 'app',
    requestedBy: 'U1',
    variables: { PLAIN: 'plain-value' },
    outputs: {},
  });
  const source: SecretSource = {
    env: (n) => (n === 'DB_PASSWORD' ? 'env-s3cret-value' : undefined),
    readFile: workerSecretSource({}).readFile,
  };
  const run = (i: RunScriptInput, secretSource: SecretSource | null = source): Promise<RunScriptOutput> =>
    new MockActivityEnvironment().run(
      createScriptActivities({ transports: { local }, ...(secretSource ? { secretSource } : {}) }).runScript,
      i,
    );

  it('passes secrets in the environment and #{…}, masks them and marked values in tail, outputs and error', async () => {
    const t = target({
      DB: { fromEnv: 'DB_PASSWORD', sensitive: true },
      TOKEN: { fromFile: secretFile, sensitive: true },
      OPEN: { fromEnv: 'DB_PASSWORD', sensitive: false },
    });
    const out = await run(
      input(
        t,
        [
          'echo "env=$ROLLOUT_VAR_DB sub=#{TOKEN} plain=#{PLAIN}"',
          '[ "$ROLLOUT_VAR_DB" = env-s3cret-value ] && echo same',
          'set_output leaked "$ROLLOUT_VAR_TOKEN"',
          'X="run""time-value"; mask_output "$X"; echo "x=$X" >&2',
          'echo "##rollout[mask other-value]"; echo "o=other-value"',
          'exit 4',
        ].join('\n'),
      ),
    );
    expect(out.exitCode).toBe(4);
    // (#{…} substitutes one single-quoted shell word: inside double quotes the quotes show)
    expect(out.tail).toContain("env=*** sub='***' plain='plain-value'");
    expect(out.tail).toContain('same');
    expect(out.tail).toContain('x=***');
    expect(out.tail).toContain('o=***');
    expect(out.outputs.leaked).toBe('***');
    for (const v of ['env-s3cret-value', 'file-s3cret-value', 'runtime-value', 'other-value'])
      expect(JSON.stringify(out)).not.toContain(v);
  });

  it('control: without the sensitive flag the same value is not masked', async () => {
    const out = await run(input(target({ OPEN: { fromEnv: 'DB_PASSWORD', sensitive: false } }), 'echo "v=#{OPEN}"'));
    expect(out.tail).toContain('v=env-s3cret-value');
  });

  it.each<[string, TargetPlan['secrets'], SecretSource | null, RegExp]>([
    [
      'an unset env var',
      { DB: { fromEnv: 'NOPE', sensitive: true } },
      source,
      /variable DB: environment variable NOPE is not set/,
    ],
    [
      'an unreadable file',
      { DB: { fromFile: '/nonexistent/x', sensitive: true } },
      source,
      /variable DB: cannot read secret file \/nonexistent\/x on the worker \(ENOENT\)/,
    ],
    [
      'no secret source',
      { DB: { fromEnv: 'DB_PASSWORD', sensitive: true } },
      null,
      /variable DB: this worker has no secret source/,
    ],
  ])('%s is a typed, non-retryable failure naming the variable', async (_w, secrets, src, re) => {
    const e = await run(input(target(secrets), 'echo hi'), src).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(ApplicationFailure);
    const f = e as ApplicationFailure;
    expect(f.type).toBe('secret-unavailable');
    expect(f.nonRetryable).toBe(true);
    expect(f.message).toMatch(re);
  });
});
