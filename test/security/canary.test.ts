// The canary scan (issue 10). Canaries planted where secrets live: the private key file of one target, the private
// key in `privateKeyEnv` of another, the bot's Slack token, and sensitive variables (worker env, worker file, values
// a script marks with `mask_output` and `##rollout[mask …]`) that a failing script echoes on stdout and stderr and
// sets as output variables. A rollout runs through the REAL bot (signed requests, the Slack stand-in) and a failure
// card's Retry. Then every workflow history (rollout, chains, the deployable workflow), the queries, every captured
// log line and every Slack call are scanned: no canary may appear. The control: a NON-sensitive variable holding a
// canary, echoed the same way, which the scan must find (it shows the scan can see what the script printed).
import { logLines, runtimeInstalled } from './canaryRuntime';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_DECIDE_RETRY } from '../../activities/slack/blocks';
import { SshTransport } from '../../activities/transports/ssh';
import { LocalTransport } from '../../activities/transports/local';
import type { SecretSource } from '../../activities/secrets';
import { startSlackStandin, type SlackStandin, type StandinMessage } from '../../dev/standin/server';
import { validateConfig } from '../../src/config/load';
import { getDeployableState, getSummary, rolloutHandle } from '../../src/temporal/client';
import { startSshd, type SshdFixture } from '../support/sshd';
import { temporalTestEnv, type RunningWorker, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, rolloutIdOf, roots, startHarness, textOf, threadOf, waitFor, type Harness } from '../bot/harness';

const execFileP = promisify(execFile);
const hex = () => randomBytes(8).toString('hex');

let sshd: SshdFixture;
let env: TemporalTestEnv;
let standin: SlackStandin;
let worker: RunningWorker | undefined;
let h: Harness | undefined;
let ssh: SshTransport;
let local: LocalTransport;
let web1Workdir = '';

const SUFFIX = hex();
const canary = {
  slackToken: `xoxb-canary-${hex()}`,
  dbPassword: `canary-db-${hex()}`,
  fileToken: `canary-file-${hex()}`,
  /** Only ever assembled by the script at run time ("canary-mark" + "ed-" + SUFFIX): never in the plan. */
  marked: `canary-marked-${SUFFIX}`,
  raw: `canary-raw-${SUFFIX}`,
  keyFile: '', // a line of the key file's base64 body
  keyEnv: '', // a line of the env key's base64 body
};
const control = `canary-control-${hex()}`;

/** A distinctive line of an OpenSSH private key (random base64 bytes of the key itself). */
const keyLine = (text: string): string => {
  const line = text.split('\n').find((l, i) => i > 0 && l.length >= 40);
  if (!line) throw new Error('no base64 line in the key');
  return line;
};

beforeAll(async () => {
  [sshd, env, standin] = await Promise.all([
    startSshd({ count: 2, baseAddress: '127.0.20.21', port: 2222, namePrefix: 'web' }),
    temporalTestEnv('canary'),
    startSlackStandin({
      tokens: [canary.slackToken],
      users: ['UALICE', 'UBOB'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  canary.keyFile = keyLine(await readFile(sshd.keyPath, 'utf8'));
  // A second key, authorised on the servers, that the worker only knows from its environment.
  const envKeyPath = path.join(sshd.dir, 'env_key');
  await execFileP('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'canary-env-key', '-f', envKeyPath]);
  await appendFile(path.join(sshd.dir, 'authorized_keys'), await readFile(`${envKeyPath}.pub`, 'utf8'));
  const envKey = await readFile(envKeyPath, 'utf8');
  canary.keyEnv = keyLine(envKey);

  const secretFile = path.join(sshd.dir, 'api-token');
  await writeFile(secretFile, `${canary.fileToken}\n`, { mode: 0o600 });
  const secretSource: SecretSource = {
    env: (name) => (name === 'CANARY_DB_PASSWORD' ? canary.dbPassword : undefined),
    readFile: (p) => readFile(p, 'utf8'),
  };
  ssh = new SshTransport({ env: { CANARY_SSH_KEY: envKey } });
  local = new LocalTransport();
  worker = await env.startWorker({ transports: { ssh, local }, secretSource });

  const [t1, t2] = sshd.targetsFor('canary');
  web1Workdir = t1!.workdir;
  const sshFields = (t: NonNullable<typeof t1>) => ({
    host: t.host,
    port: t.port,
    user: t.user,
    knownHostsPath: t.knownHostsPath,
    workdir: t.workdir,
    tags: ['web'],
  });
  const script = [
    'echo "db=$ROLLOUT_VAR_DB_PASSWORD token=#{API_TOKEN} control=#{CONTROL}"',
    'echo "stderr db=$ROLLOUT_VAR_DB_PASSWORD token=$ROLLOUT_VAR_API_TOKEN control=$ROLLOUT_VAR_CONTROL" >&2',
    'set_output leaked "$ROLLOUT_VAR_DB_PASSWORD"',
    `printf "##rollout[setOutput name='leaked2' value='%s']\\n" "$ROLLOUT_VAR_API_TOKEN"`,
    'set_output controlOut "$ROLLOUT_VAR_CONTROL"',
    'M="canary-mark""ed-$ROLLOUT_VAR_SUFFIX"; mask_output "$M"; echo "marked $M"; echo "marked $M" >&2',
    'R="canary-r""aw-$ROLLOUT_VAR_SUFFIX"; echo "##rollout[mask $R]"; echo "raw $R" >&2; set_output rawOut "$R"',
    'if [ #{Machine.Name} = web1 ] && [ ! -f fixed ]; then echo "failing with $ROLLOUT_VAR_DB_PASSWORD" >&2; exit 3; fi',
  ].join('\n');
  const config = validateConfig(
    {
      targets: {
        web1: { ...sshFields(t1!), privateKeyPath: sshd.keyPath },
        web2: { ...sshFields(t2!), privateKeyEnv: 'CANARY_SSH_KEY' },
      },
      deployables: {
        canary: {
          targets: ['tag:web'],
          starters: ['UALICE', 'UBOB'],
          approvers: ['UBOB'],
          variables: {
            DB_PASSWORD: { fromEnv: 'CANARY_DB_PASSWORD', sensitive: true },
            API_TOKEN: { fromFile: secretFile, sensitive: true },
            CONTROL: control,
            SUFFIX,
          },
          process: [{ type: 'rolling', name: 'deploy', window: 2, childSteps: [{ name: 'install', script }] }],
        },
      },
    },
    'canary-config',
    '/',
  );
  h = await startHarness(env, standin, config, { botToken: canary.slackToken });
}, 60_000);

afterAll(async () => {
  const quietly = (p: Promise<unknown> | undefined) => p?.catch((e: unknown) => console.warn(`cleanup: ${String(e)}`));
  await quietly(h?.stop());
  await quietly(worker?.stop());
  await quietly(env?.close());
  await quietly(ssh?.close());
  await quietly(local?.close());
  await quietly(sshd?.stop());
  await standin?.close();
});

/** Every string in a (proto) object, byte arrays decoded as UTF-8 (payloads are JSON bytes). */
function strings(v: unknown, out: string[] = [], seen = new Set<unknown>()): string[] {
  if (v === null || v === undefined) return out;
  if (typeof v === 'string') out.push(v);
  else if (v instanceof Uint8Array) out.push(Buffer.from(v).toString('utf8'));
  else if (typeof v === 'object') {
    if (seen.has(v)) return out;
    seen.add(v);
    for (const x of Object.values(v as Record<string, unknown>)) strings(x, out, seen);
  }
  return out;
}

const count = (hay: string, needle: string): number => (needle ? hay.split(needle).length - 1 : 0);

describe('canary scan', () => {
  it(
    'no planted secret reaches history, queries, logs or Slack; the unmasked control does',
    { timeout: 120_000 },
    async () => {
      expect(runtimeInstalled, 'the canary Runtime (captured logs) must be the first one in this process').toBe(true);
      const harness = h!;
      const before = roots(standin).length;
      const r = await harness.command('canary v2', 'UALICE');
      expect(r.status).toBe(200);
      const root = await waitFor(() => roots(standin)[before], 15_000, 'the root message');
      const rolloutId = rolloutIdOf(root);
      const card = structuredClone(
        await waitFor(
          () => threadOf(standin, root).find((m) => textOf(m).includes(ACTION_DECIDE_RETRY)),
          60_000,
          'a failure card',
        ),
      );
      expect(textOf(card)).toContain(control);
      writeFileSync(path.join(web1Workdir, 'fixed'), '');
      const click = await harness.click(card, ACTION_DECIDE_RETRY, 'UBOB');
      expect(click.status).toBe(200);
      const result = await rolloutHandle(env.client, rolloutId).result();
      expect(result.status).toBe('succeeded');
      await waitFor(
        () => /succeeded/i.test(standin.channelMessages(CHANNEL).find((m) => m.ts === root.ts)?.text ?? ''),
        15_000,
        'root says succeeded',
      );

      // ---- dump everything ----
      const histories: string[] = [];
      let executions: Array<{ workflowId: string; runId: string; type: string }> = [];
      for (let i = 0; i < 100; i++) {
        executions = [];
        for await (const wf of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}'` })) {
          executions.push({ workflowId: wf.workflowId, runId: wf.runId, type: wf.type });
        }
        const types = new Set(executions.map((e) => e.type));
        // The deployable's queue and the rollout (whose history holds each target's runChain activity).
        if (executions.some((e) => e.workflowId === rolloutId) && types.size >= 2) break;
        await new Promise((res) => setTimeout(res, 100));
      }
      const types = [...new Set(executions.map((e) => e.type))].sort();
      expect(types, `workflow types found: ${types.join(', ')}`).toEqual(['deployableWorkflow', 'rolloutWorkflow']);
      for (const e of executions) {
        const hist = await env.client.workflow.getHandle(e.workflowId, e.runId).fetchHistory();
        histories.push(strings(hist).join('\n'));
      }
      const history = histories.join('\n');
      const queries = JSON.stringify([
        await getSummary(env.client, rolloutId),
        await getDeployableState(env.client, env.taskQueue, 'canary'),
      ]);
      const logs = [...logLines, ...harness.logger.lines].join('\n');
      const slack = JSON.stringify([
        standin.calls.map((c) => ({ method: c.method, params: c.params, response: c.response })),
        standin.channelMessages(CHANNEL).map((m: StandinMessage) => m),
      ]);
      const corpora = { history, queries, logs, slack };

      const hits: Record<string, Record<string, number>> = {};
      for (const [name, value] of Object.entries({ ...canary, control })) {
        expect(value.length, name).toBeGreaterThan(10);
        hits[name] = Object.fromEntries(Object.entries(corpora).map(([k, text]) => [k, count(text, value)]));
      }
      const total = (name: string) => Object.values(hits[name]!).reduce((a, b) => a + b, 0);
      const secretHits = Object.keys(canary).reduce((a, k) => a + total(k), 0);
      console.log(
        `canary scan: ${executions.length} histories (${types.join(', ')}), ${logLines.length + harness.logger.lines.length} log lines, ` +
          `${standin.calls.length} Slack calls; control (unmasked) hits ${total('control')} ${JSON.stringify(hits.control)}; ` +
          `secret canary hits ${secretHits} ${JSON.stringify(hits)}`,
      );
      // The control: the scan sees what the script printed, in history, queries and Slack.
      expect(hits.control!.history).toBeGreaterThan(0);
      expect(hits.control!.slack).toBeGreaterThan(0);
      expect(hits.control!.queries).toBeGreaterThan(0);
      // And no secret anywhere.
      expect(hits).toEqual(
        Object.fromEntries(
          Object.keys({ ...canary, control }).map((k) => [
            k,
            k === 'control' ? hits.control : { history: 0, queries: 0, logs: 0, slack: 0 },
          ]),
        ),
      );
      // The card showed the script's output, masked: each planted value was printed (and replaced).
      for (const shown of ['db=***', 'token=***', 'marked ***', 'raw ***', `control=${control}`])
        expect(textOf(card)).toContain(shown);
      // What the script set as outputs arrived masked (the value is gone, the variable is there).
      expect(history).toContain('"leaked":"***"');
    },
  );
});
