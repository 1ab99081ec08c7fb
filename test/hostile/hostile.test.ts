// Hostile and careless input, tried the way an attacker or a hurried operator would: slash commands, button
// payloads, Slack events, CLI arguments and config files. Every row asserts the answer shown, the HTTP status or
// exit code, and that nothing started or changed: no workflow started, no script ran, no message posted but the
// refusal, the pending decision still pending. A control row at the end shows the same measurement sees a start.
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { encodeButtonValue, encodeRolloutValue } from '../../activities/slack/blocks';
import {
  ACTION_CANCEL,
  ACTION_DECIDE_IGNORE,
  ACTION_MANUAL_PROCEED,
  ACTION_WITHDRAW,
} from '../../activities/slack/blocks/ids';
import {
  blockActionsBody,
  eventCallbackBody,
  FORM_CONTENT_TYPE,
  JSON_CONTENT_TYPE,
  postSigned,
} from '../../dev/signing';
import { startSlackStandin, type SlackStandin } from '../../dev/standin/server';
import { validateConfig } from '../../src/config/load';
import { buildPlan } from '../../src/config/plan';
import { cancelRollout, getSummary, startRollout } from '../../src/temporal/client';
import { cliEnv, killAllCli, runCli } from '../cli/helpers';
import { realTransports } from '../support/rollouts';
import { temporalTestEnv, waitForSummary, type TemporalTestEnv } from '../support/temporal';
import { CHANNEL, SECRET, startHarness, textOf, TOKEN, waitFor, type Harness } from '../bot/harness';

const dir = mkdtempSync(path.join(os.tmpdir(), 'rollout-hostile-'));
/** Where an injected command would leave its mark: `touch <MARK>`. */
const MARK = path.join(dir, 'pwned');
const targetsDir = path.join(dir, 'targets');
const PEM =
  '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB\n-----END OPENSSH PRIVATE KEY-----\n';

const rawConfig = {
  groups: { deployers: { slack: 'deployers' }, nobody: [], ops: [] },
  targets: {
    a: { transport: 'local', workdir: path.join(targetsDir, 'a'), tags: ['web'] },
    b: { transport: 'local', workdir: path.join(targetsDir, 'b'), tags: ['web'] },
  },
  deployables: {
    'web-farm': {
      targets: ['tag:web'],
      starters: ['UALICE', '@deployers'],
      approvers: ['UALICE'],
      variables: { Port: '8080' },
      process: [{ name: 'deploy', script: 'touch deployed-#{Release}' }],
    },
    locked: { targets: ['a'], starters: ['@nobody'], process: [{ name: 'deploy', script: 'touch deployed' }] },
    guarded: {
      targets: ['a'],
      approvers: ['@ops'],
      process: [{ name: 'deploy', script: 'echo "health check failed" >&2; exit 3' }],
    },
  },
};
const configPath = path.join(dir, 'rollout.yaml');
writeFileSync(configPath, YAML.stringify(rawConfig));

let env: TemporalTestEnv;
let transports: ReturnType<typeof realTransports>;
let standin: SlackStandin;
let h: Harness;
let cliEnvironment: NodeJS.ProcessEnv;
/** The rollout set up with a pending decision that nobody may answer (approvers: an empty group). */
let guarded: { rolloutId: string; decisionId: string };

beforeAll(async () => {
  [env, standin] = await Promise.all([
    temporalTestEnv('hostile'),
    startSlackStandin({
      tokens: [TOKEN],
      users: ['UALICE', 'UEVE', 'UCAROL'].map((id) => ({ id, name: id.slice(1).toLowerCase() })),
      usergroups: [{ id: 'S_DEPLOYERS', handle: 'deployers', users: ['UCAROL'] }],
      channels: [{ id: CHANNEL, name: 'deploys' }],
    }),
  ]);
  transports = realTransports();
  await env.startWorker(transports);
  const config = validateConfig(rawConfig, configPath, dir);
  h = await startHarness(env, standin, config);
  cliEnvironment = cliEnv({
    TEMPORAL_ADDRESS: env.address,
    ROLLOUT_TASK_QUEUE: env.taskQueue,
    ROLLOUT_CONFIG: configPath,
  });
  const plan = buildPlan(config, { deployable: 'guarded', release: 'v1', requestedBy: 'UALICE' });
  const handle = await startRollout(env.client, env.taskQueue, plan);
  const s = await waitForSummary(env.client, handle.workflowId, (x) => x.pendingDecisions.length === 1);
  guarded = { rolloutId: handle.workflowId, decisionId: s.pendingDecisions[0]!.id };
}, 120_000);

afterAll(async () => {
  if (guarded) await cancelRollout(env.client, guarded.rolloutId, 'UALICE').catch(() => undefined);
  await h?.stop();
  await killAllCli();
  await env?.close();
  await transports?.close();
  await standin?.close();
});

// ---- what "nothing changed" means ---------------------------------------------------------------------------

async function workflowCount(): Promise<number> {
  let n = 0;
  for await (const _ of env.client.workflow.list({ query: `TaskQueue = '${env.taskQueue}'` })) n++;
  return n;
}

function filesUnder(d: string): string[] {
  if (!existsSync(d)) return [];
  return readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
}

const posts = () => standin.calls.filter((c) => /^chat\.(postMessage|update|postEphemeral|delete)$/.test(c.method));

interface World {
  workflows: number;
  files: string[];
  posts: number;
  mark: boolean;
  pending: string[];
}

async function world(): Promise<World> {
  const s = await getSummary(env.client, guarded.rolloutId);
  return {
    workflows: await workflowCount(),
    files: filesUnder(targetsDir),
    posts: posts().length,
    mark: existsSync(MARK),
    pending: s.pendingDecisions.map((d) => `${d.id}:${d.answer ? 'answered' : 'pending'}`),
  };
}

// ---- the rows ---------------------------------------------------------------------------------------------

interface Outcome {
  /** HTTP status (Slack rows) or exit code (CLI rows). */
  code: number;
  /** What the person was shown: the ephemeral reply, or the CLI's stdout+stderr. Undefined: nothing at all. */
  shown?: string;
}

interface Row {
  name: string;
  run: () => Promise<Outcome>;
  code: number;
  /** The answer shown; undefined = nothing may be shown (a 401, an ignored event). */
  shown?: RegExp;
  /** Text that must NOT appear in what is shown (key material). */
  hidden?: string;
}

/** A slash command; the refusal comes back through the response URL. */
const command =
  (text: string, user = 'UALICE', opts: { timestampSec?: number; secret?: string } = {}) =>
  async (): Promise<Outcome> => {
    const r = await h.command(text, user, opts);
    if (r.status !== 200) return { code: r.status };
    return { code: r.status, shown: textOf(await h.waitResponse(r.responseId)) };
  };

/** A button click with a value the attacker chose (not one the bot rendered). */
const click =
  (actionId: string, value: string, user = 'UEVE', opts: { timestampSec?: number } = {}) =>
  async (): Promise<Outcome> => {
    const responseId = `hostile-${Math.random().toString(36).slice(2)}`;
    const url = standin.responseUrlFor(responseId, { channel: CHANNEL, user });
    const body = blockActionsBody({
      user: { id: user },
      channel: CHANNEL,
      message: { ts: '1700000000.000100', text: 'card', blocks: [], user: standin.bot.user_id },
      actions: [{ action_id: actionId, block_id: 'b', value }],
      response_url: url,
    });
    const res = await postSigned(h.url, body, FORM_CONTENT_TYPE, SECRET, opts);
    await res.text();
    if (res.status !== 200) return { code: res.status };
    return { code: res.status, shown: textOf(await h.waitResponse(responseId)) };
  };

/** A Slack event; an ignored one shows nothing (waited for through the thread read the bot makes first). */
const event =
  (e: Record<string, unknown>, opts: { timestampSec?: number; secret?: string } = {}) =>
  async (): Promise<Outcome> => {
    const ts = `${(Date.now() / 1000).toFixed(6)}`;
    const full: Record<string, unknown> = {
      channel: CHANNEL,
      user: 'UEVE',
      ts,
      event_ts: ts,
      channel_type: 'channel',
      ...e,
    };
    const before = standin.calls.length;
    const res = await postSigned(
      h.url,
      eventCallbackBody(full, { bot_user_id: standin.bot.user_id }),
      JSON_CONTENT_TYPE,
      opts.secret ?? SECRET,
      opts.timestampSec !== undefined ? { timestampSec: opts.timestampSec } : {},
    );
    await res.text();
    const looksAtThread = full.subtype === undefined && full.bot_id === undefined && full.thread_ts !== undefined;
    if (res.status === 200 && looksAtThread && /status|<@/.test(String(full.text))) {
      // The bot looks the thread up before deciding to stay quiet: wait for that read (its last call).
      await standin.waitForCall((c) => c.seq > before && /^conversations\./.test(c.method), 10_000);
    }
    return { code: res.status };
  };

/** The real CLI, as a separate process, against the same Temporal and config. */
const cli =
  (args: string[], extraEnv: Record<string, string> = {}) =>
  async (): Promise<Outcome> => {
    const r = await runCli(args, { ...cliEnvironment, ...extraEnv });
    return { code: r.code ?? -1, shown: `${r.stdout}\n${r.stderr}` };
  };

/** `rollout validate` of a config file with one hostile change to the good config. */
const badConfig =
  (mutate: (c: typeof rawConfig & Record<string, unknown>) => unknown, ext: 'yaml' | 'json' = 'yaml', text?: string) =>
  async (): Promise<Outcome> => {
    const c = structuredClone(rawConfig) as typeof rawConfig & Record<string, unknown>;
    const replaced = mutate(c);
    const file = path.join(mkdtempSync(path.join(dir, 'cfg-')), `rollout.${ext}`);
    const value = replaced === undefined ? c : replaced;
    writeFileSync(file, text ?? (ext === 'json' ? JSON.stringify(value, null, 1) : YAML.stringify(value)));
    return cli(['validate', file])();
  };

const nowSec = () => Math.floor(Date.now() / 1000);
const sshTarget = (over: Record<string, unknown>) => ({
  transport: 'ssh',
  host: '127.0.7.9',
  user: 'deploy',
  privateKeyPath: path.join(dir, 'key'),
  strictHostKeyChecking: false,
  tags: ['x'],
  ...over,
});
const withTarget = (over: Record<string, unknown>) => (c: Record<string, unknown>) => {
  (c.targets as Record<string, unknown>).evil = sshTarget(over);
};
const guardedIgnore = () =>
  encodeButtonValue({ rolloutId: guarded.rolloutId, decisionId: guarded.decisionId, choice: 'ignore' });
const NO_ROLLOUT = /no rollout|There is no rollout/i;

const rows: Row[] = [
  // Slash commands
  { name: 'cmd: __proto__ as deployable', run: command('__proto__ v1'), code: 200, shown: /unknown deployable/ },
  { name: 'cmd: constructor as deployable', run: command('constructor v1'), code: 200, shown: /unknown deployable/ },
  { name: 'cmd: toString as deployable', run: command('toString v1'), code: 200, shown: /unknown deployable/ },
  {
    name: 'cmd: hasOwnProperty as deployable',
    run: command('hasOwnProperty v1'),
    code: 200,
    shown: /unknown deployable/,
  },
  { name: 'cmd: valueOf as deployable', run: command('valueOf v1'), code: 200, shown: /unknown deployable/ },
  { name: 'cmd: release with ;', run: command(`web-farm v2;touch ${MARK}`), code: 200, shown: /invalid release/ },
  { name: 'cmd: release with $()', run: command(`web-farm $(touch ${MARK})`), code: 200, shown: /invalid release/ },
  { name: 'cmd: release with backticks', run: command('web-farm `id`'), code: 200, shown: /invalid release/ },
  { name: 'cmd: release ../', run: command('web-farm ../../etc'), code: 200, shown: /invalid release/ },
  {
    name: 'cmd: release starting with -',
    run: command('web-farm -oProxyCommand=x'),
    code: 200,
    shown: /invalid release/,
  },
  {
    name: 'cmd: release of 300 characters',
    run: command(`web-farm ${'v'.repeat(300)}`),
    code: 200,
    shown: /invalid release/,
  },
  { name: 'cmd: release with a NUL', run: command('web-farm v2\u0000x'), code: 200, shown: /invalid release/ },
  {
    name: 'cmd: release with a newline',
    run: command('web-farm v2\nrm'),
    code: 200,
    shown: /unexpected|invalid release/,
  },
  { name: 'cmd: missing release', run: command('web-farm'), code: 200, shown: /missing release/ },
  { name: 'cmd: extra words', run: command('web-farm v2 now please'), code: 200, shown: /invalid release|unexpected/ },
  {
    name: 'cmd: outsider starts web-farm',
    run: command('web-farm v2', 'UEVE'),
    code: 200,
    shown: /you may not roll out web-farm/,
  },
  {
    name: 'cmd: starters naming an empty group',
    run: command('locked v2', 'UALICE'),
    code: 200,
    shown: /you may not roll out locked/,
  },
  { name: 'cmd: status __proto__', run: command('status __proto__'), code: 200, shown: /no|not|unknown/i },
  { name: 'cmd: status constructor', run: command('status constructor'), code: 200, shown: /no|not|unknown/i },
  { name: 'cmd: cancel __proto__', run: command('cancel __proto__'), code: 200, shown: /No running rollout/ },
  {
    name: 'cmd: cancel unknown id',
    run: command('cancel rollout-nope-v1-00000000'),
    code: 200,
    shown: /No running rollout/,
  },
  { name: 'cmd: cancel with extra words', run: command('cancel a b'), code: 200, shown: /unexpected/ },
  {
    name: 'cmd: timestamp 10 minutes in the future',
    run: command('web-farm v2', 'UALICE', { timestampSec: nowSec() + 600 }),
    code: 401,
  },
  {
    name: 'cmd: timestamp 10 minutes in the past',
    run: command('web-farm v2', 'UALICE', { timestampSec: nowSec() - 600 }),
    code: 401,
  },
  { name: 'cmd: wrong signing secret', run: command('web-farm v2', 'UALICE', { secret: 'not-the-secret' }), code: 401 },
  // Interaction payloads (button values chosen by the attacker)
  {
    name: 'click: decision value not JSON',
    run: click(ACTION_DECIDE_IGNORE, 'ignore'),
    code: 200,
    shown: /not one the rollout bot understands/,
  },
  {
    name: 'click: decision value {}',
    run: click(ACTION_DECIDE_IGNORE, '{}'),
    code: 200,
    shown: /not one the rollout bot understands/,
  },
  {
    name: 'click: decision value with __proto__',
    run: click(ACTION_DECIDE_IGNORE, '{"__proto__":{"rolloutId":"x"},"r":"x"}'),
    code: 200,
    shown: /not one the rollout bot understands/,
  },
  {
    name: 'click: decision for a rollout that does not exist',
    run: click(
      ACTION_DECIDE_IGNORE,
      encodeButtonValue({ rolloutId: 'rollout-ghost-v1-00000000', decisionId: 'd1', choice: 'ignore' }),
    ),
    code: 200,
    shown: NO_ROLLOUT,
  },
  {
    name: 'click: decision choice that is not a choice',
    run: click(ACTION_DECIDE_IGNORE, '{"r":"rollout-x","d":"d1","c":"delete"}'),
    code: 200,
    shown: /not one the rollout bot understands/,
  },
  {
    name: 'click: outsider answers the guarded decision',
    run: () => click(ACTION_DECIDE_IGNORE, guardedIgnore(), 'UEVE')(),
    code: 200,
    shown: /not allowed to answer/,
  },
  {
    name: 'click: even the requester may not answer (approvers resolve to nobody)',
    run: () => click(ACTION_DECIDE_IGNORE, guardedIgnore(), 'UALICE')(),
    code: 200,
    shown: /not allowed to answer/,
  },
  {
    name: 'click: Proceed on a failure decision',
    run: () =>
      click(
        ACTION_MANUAL_PROCEED,
        encodeButtonValue({ rolloutId: guarded.rolloutId, decisionId: guarded.decisionId, choice: 'proceed' }),
        'UEVE',
      )(),
    code: 200,
    shown: /not allowed|not an answer/,
  },
  {
    name: 'click: cancel value a bare id',
    run: click(ACTION_CANCEL, 'rollout-web-farm-v2-0123abcd'),
    code: 200,
    shown: /not one the rollout bot understands/,
  },
  {
    name: 'click: cancel by an outsider',
    run: () =>
      click(
        ACTION_CANCEL,
        encodeRolloutValue({ rolloutId: guarded.rolloutId, deployable: 'guarded', release: 'v1' }),
        'UEVE',
      )(),
    code: 200,
    shown: /You may not cancel/,
  },
  {
    name: 'click: cancel of a rollout that does not exist',
    run: click(
      ACTION_CANCEL,
      encodeRolloutValue({ rolloutId: 'rollout-ghost-v1-0', deployable: 'web-farm', release: 'v1' }),
    ),
    code: 200,
    shown: /There is no rollout/,
  },
  {
    name: 'click: withdraw naming __proto__ as deployable',
    run: click(ACTION_WITHDRAW, encodeRolloutValue({ rolloutId: 'rollout-x', deployable: '__proto__', release: 'v1' })),
    code: 200,
    shown: /not a rollout of a deployable this bot knows/,
  },
  {
    name: 'click: withdraw naming constructor as deployable',
    run: click(
      ACTION_WITHDRAW,
      encodeRolloutValue({ rolloutId: 'rollout-x', deployable: 'constructor', release: 'v1' }),
    ),
    code: 200,
    shown: /not a rollout of a deployable this bot knows/,
  },
  {
    name: 'click: withdraw of a rollout that is not queued',
    run: click(
      ACTION_WITHDRAW,
      encodeRolloutValue({ rolloutId: 'rollout-web-farm-v9-0', deployable: 'web-farm', release: 'v9' }),
    ),
    code: 200,
    shown: /not queued|no such|not/i,
  },
  {
    name: 'click: timestamp 10 minutes in the future',
    run: () => click(ACTION_DECIDE_IGNORE, guardedIgnore(), 'UALICE', { timestampSec: nowSec() + 600 })(),
    code: 401,
  },
  // Slack events
  {
    name: 'event: status in a thread that is no rollout',
    run: event({ type: 'message', text: 'status', thread_ts: '1600000000.000001' }),
    code: 200,
  },
  {
    name: 'event: mention with __proto__ in a stranger thread',
    run: event({ type: 'app_mention', text: '<@U0LOCALBOT> __proto__ status', thread_ts: '1600000000.000002' }),
    code: 200,
  },
  {
    name: 'event: a bot message saying status',
    run: event({
      type: 'message',
      text: 'status',
      thread_ts: '1600000000.000003',
      bot_id: 'BOTHER',
      subtype: 'bot_message',
    }),
    code: 200,
  },
  {
    name: 'event: timestamp 10 minutes in the future',
    run: event({ type: 'message', text: 'status', thread_ts: '1600000000.000004' }, { timestampSec: nowSec() + 600 }),
    code: 401,
  },
  {
    name: 'event: timestamp 6 minutes in the past',
    run: event({ type: 'message', text: 'status' }, { timestampSec: nowSec() - 360 }),
    code: 401,
  },
  {
    name: 'event: wrong signing secret',
    run: event({ type: 'message', text: 'status' }, { secret: 'nope' }),
    code: 401,
  },
  // CLI arguments
  {
    name: 'cli: start __proto__',
    run: cli(['start', '__proto__', 'v1']),
    code: 2,
    shown: /unknown deployable "__proto__"/,
  },
  {
    name: 'cli: start constructor',
    run: cli(['start', 'constructor', 'v1']),
    code: 2,
    shown: /unknown deployable "constructor"/,
  },
  {
    name: 'cli: start toString',
    run: cli(['start', 'toString', 'v1']),
    code: 2,
    shown: /unknown deployable "toString"/,
  },
  {
    name: 'cli: release with ;',
    run: cli(['start', 'web-farm', `v2;touch ${MARK}`, '--as', 'UALICE']),
    code: 2,
    shown: /invalid release/,
  },
  {
    name: 'cli: --var constructor=x',
    run: cli(['start', 'web-farm', 'v2', '--var', 'constructor=x', '--as', 'UALICE']),
    code: 2,
    shown: /unknown variable "constructor"/,
  },
  {
    name: 'cli: --var __proto__=x',
    run: cli(['start', 'web-farm', 'v2', '--var', '__proto__=x', '--as', 'UALICE']),
    code: 2,
    shown: /unknown variable "__proto__"/,
  },
  {
    name: 'cli: --var with a newline',
    run: cli(['start', 'web-farm', 'v2', '--var', 'Port=80\nrm -rf /', '--as', 'UALICE']),
    code: 2,
    shown: /control characters/,
  },
  {
    name: 'cli: --var without =',
    run: cli(['start', 'web-farm', 'v2', '--var', 'Port']),
    code: 2,
    shown: /--var expects NAME=VALUE/,
  },
  {
    name: 'cli: start as an outsider',
    run: cli(['start', 'web-farm', 'v2', '--as', 'UNOBODY']),
    code: 2,
    shown: /UNOBODY may not start web-farm/,
  },
  {
    name: 'cli: start where starters name an empty group',
    run: cli(['start', 'locked', 'v2', '--as', 'UALICE']),
    code: 2,
    shown: /may not start locked/,
  },
  {
    name: 'cli: decide as UNOBODY where approvers are an empty group (refused by the workflow)',
    run: () => cli(['decide', guarded.rolloutId, guarded.decisionId, 'ignore', '--as', 'UNOBODY'])(),
    code: 1,
    shown: /UNOBODY is not allowed to answer/,
  },
  {
    name: 'cli: cancel as UNOBODY (refused by the workflow)',
    run: () => cli(['cancel', guarded.rolloutId, '--as', 'UNOBODY'])(),
    code: 1,
    shown: /UNOBODY is not allowed to cancel/,
  },
  {
    name: 'cli: decide with a choice that is none',
    run: () => cli(['decide', guarded.rolloutId, guarded.decisionId, 'delete'])(),
    code: 2,
    shown: /delete/,
  },
  {
    name: 'cli: decide an unknown decision',
    run: () => cli(['decide', guarded.rolloutId, 'd99', 'ignore', '--as', 'UALICE'])(),
    code: 1,
    shown: /no decision "d99"/,
  },
  // Config files (rollout validate)
  {
    name: 'config: private key text pasted into targets.*.privateKeyPath',
    run: badConfig(withTarget({ privateKeyPath: PEM })),
    code: 1,
    shown: /targets\.evil\.privateKeyPath: holds key material/,
    hidden: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
  },
  {
    name: 'config: private key text in ssh.privateKeyPath',
    run: badConfig((c) => void (c.ssh = { privateKeyPath: PEM })),
    code: 1,
    shown: /ssh\.privateKeyPath: holds key material/,
    hidden: 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
  },
  {
    name: 'config: a public key line in knownHostsPath',
    run: badConfig(withTarget({ knownHostsPath: `ssh-ed25519 ${'A'.repeat(68)}` })),
    code: 1,
    shown: /targets\.evil\.knownHostsPath: holds key material/,
    hidden: 'AAAAAAAAAAAAAAAAAAAA',
  },
  {
    name: 'config: host with ;',
    run: badConfig(withTarget({ host: `127.0.3.1;touch ${MARK}` })),
    code: 1,
    shown: /targets\.evil\.host: must be a hostname/,
  },
  {
    name: 'config: host -oProxyCommand',
    run: badConfig(withTarget({ host: `-oProxyCommand=touch ${MARK}` })),
    code: 1,
    shown: /targets\.evil\.host: must be a hostname/,
  },
  {
    name: 'config: host with a space',
    run: badConfig(withTarget({ host: 'web1 -p 2222' })),
    code: 1,
    shown: /targets\.evil\.host/,
  },
  {
    name: 'config: host 300.1.1.1',
    run: badConfig(withTarget({ host: '300.1.1.1' })),
    code: 1,
    shown: /targets\.evil\.host/,
  },
  { name: 'config: unbracketed IPv6', run: badConfig(withTarget({ host: '::1' })), code: 1, shown: /bracketed IPv6/ },
  {
    name: 'config: user with $()',
    run: badConfig(withTarget({ user: `$(touch ${MARK})` })),
    code: 1,
    shown: /targets\.evil\.user: must be a login name/,
  },
  {
    name: 'config: user -oProxyCommand',
    run: badConfig(withTarget({ user: '-oProxyCommand=x' })),
    code: 1,
    shown: /targets\.evil\.user/,
  },
  {
    name: 'config: ssh.user with backticks',
    run: badConfig((c) => void (c.ssh = { user: '`id`' })),
    code: 1,
    shown: /ssh\.user/,
  },
  {
    name: 'config: workdir with $()',
    run: badConfig(withTarget({ workdir: `/srv/$(touch ${MARK})` })),
    code: 1,
    shown: /targets\.evil\.workdir: must be a path/,
  },
  {
    name: 'config: workdir with ;',
    run: badConfig(withTarget({ workdir: '/srv/app;rm -rf /' })),
    code: 1,
    shown: /targets\.evil\.workdir/,
  },
  {
    name: 'config: workdir starting with -',
    run: badConfig(withTarget({ workdir: '-rf' })),
    code: 1,
    shown: /targets\.evil\.workdir/,
  },
  {
    name: 'config: defaults.workdir with $HOME',
    run: badConfig((c) => void (c.defaults = { workdir: '$HOME/app' })),
    code: 1,
    shown: /defaults\.workdir/,
  },
  {
    name: 'config: approvers name an undefined group',
    run: badConfig((c) => void (c.deployables['web-farm'].approvers = ['@sre'])),
    code: 1,
    shown: /deployables\.web-farm\.approvers\[0\]: undefined group "@sre"/,
  },
  {
    name: 'config: starters name an undefined group',
    run: badConfig((c) => void (c.deployables['web-farm'].starters = ['@typo'])),
    code: 1,
    shown: /deployables\.web-farm\.starters\[0\]: undefined group "@typo"/,
  },
  {
    name: 'config: a manual step names an undefined group',
    run: badConfig((c) => {
      (c.deployables['web-farm'].process as unknown[]).push({
        type: 'manual',
        name: 'ok',
        instructions: 'x',
        approvers: ['@qa'],
      });
    }),
    code: 1,
    shown: /process\[1\]\.approvers\[0\]: undefined group "@qa"/,
  },
  {
    name: 'config: a secret fromEnv naming an invalid variable',
    run: badConfig(
      (c) =>
        void Object.assign(c.deployables['web-farm'], { variables: { DB: { fromEnv: 'DB;rm', sensitive: true } } }),
    ),
    code: 1,
    shown: /deployables\.web-farm\.variables\.DB\.fromEnv: must be an environment variable name/,
  },
  {
    name: 'config: a secret fromFile with a relative path',
    run: badConfig(
      (c) =>
        void Object.assign(c.deployables['web-farm'], { variables: { DB: { fromFile: '../db', sensitive: true } } }),
    ),
    code: 1,
    shown: /deployables\.web-farm\.variables\.DB\.fromFile: must be an absolute path on the worker/,
  },
  {
    name: 'config: a secret with both fromEnv and fromFile',
    run: badConfig(
      (c) =>
        void Object.assign(c.deployables['web-farm'], {
          variables: { DB: { fromEnv: 'DB', fromFile: '/run/db', sensitive: true } },
        }),
    ),
    code: 1,
    shown: /variables\.DB: give exactly one of fromEnv, fromFile or value/,
  },
  {
    name: 'config: a { value } variable without sensitive: true',
    run: badConfig(
      (c) => void Object.assign(c.deployables['web-farm'], { variables: { DB: { value: 'x', sensitive: false } } }),
    ),
    code: 1,
    shown: /variables\.DB\.sensitive: a \{ value \} variable must say sensitive: true/,
  },
  {
    name: 'config: a target secret fromFile holding key text',
    run: badConfig(withTarget({ variables: { K: { fromFile: PEM, sensitive: true } } })),
    code: 1,
    shown: /targets\.evil\.variables\.K\.fromFile: holds key material/,
  },
  {
    name: 'config: a group listing another group',
    run: badConfig((c) => void (c.groups.ops = ['@deployers'] as never)),
    code: 1,
    shown: /groups\.ops/,
  },
  {
    name: 'config: duplicate target key (YAML)',
    run: badConfig(
      () => undefined,
      'yaml',
      `targets:\n  a: { transport: local, workdir: /tmp/a }\n  a: { transport: local, workdir: /tmp/evil }\ndeployables:\n  d: { targets: [a], process: [{ name: s, script: "true" }] }\n`,
    ),
    code: 1,
    shown: /targets\.a: duplicate key/,
  },
  {
    name: 'config: duplicate target key (JSON)',
    run: badConfig(
      () => undefined,
      'json',
      '{"targets":{"a":{"transport":"local","workdir":"/tmp/a"},"a":{"transport":"local","workdir":"/tmp/evil"}},"deployables":{"d":{"targets":["a"],"process":[{"name":"s","script":"true"}]}}}',
    ),
    code: 1,
    shown: /targets\.a: duplicate key/,
  },
  {
    name: 'config: __proto__ key (JSON)',
    run: badConfig(
      () => undefined,
      'json',
      '{"targets":{"a":{"transport":"local","workdir":"/tmp/a"}},"groups":{"__proto__":["U1"]},"deployables":{"d":{"targets":["a"],"process":[{"name":"s","script":"true"}]}}}',
    ),
    code: 1,
    shown: /__proto__/,
  },
  {
    name: 'config: missing known_hosts with strict checking',
    run: badConfig(withTarget({ strictHostKeyChecking: true, knownHostsPath: path.join(dir, 'no-such-known_hosts') })),
    code: 1,
    shown: /targets\.evil\.knownHostsPath: known_hosts file .* does not exist/,
  },
  {
    name: 'config: a script reading #{constructor}',
    run: badConfig((c) => void (c.deployables['web-farm'].process[0]!.script = 'echo #{constructor}')),
    code: 1,
    shown: /unknown variable #\{constructor\}/,
  },
  {
    name: 'config: a script reading #{__proto__}',
    run: badConfig((c) => void (c.deployables['web-farm'].process[0]!.script = 'echo #{toString}')),
    code: 1,
    shown: /unknown variable #\{toString\}/,
  },
  {
    name: 'config: an empty group is allowed but warned about (validate exits 0)',
    run: badConfig(() => undefined),
    code: 0,
    shown: /warning: groups\.nobody: empty group/,
  },
];

describe('hostile input', () => {
  it('has at least 60 rows', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
  });

  let before: World;
  beforeAll(async () => {
    before = await world();
    expect(before.pending).toEqual([`${guarded.decisionId}:pending`]);
  });

  for (const row of rows) {
    it(row.name, async () => {
      const postsBefore = posts().length;
      const out = await row.run();
      expect(out.code, out.shown).toBe(row.code);
      if (row.shown) expect(out.shown ?? '(nothing shown)').toMatch(row.shown);
      else expect(out.shown).toBeUndefined();
      if (row.hidden) expect(out.shown ?? '').not.toContain(row.hidden);
      expect(out.shown ?? '').not.toMatch(/Cannot read properties|TypeError|\n\s+at .*\.ts:\d+/);
      // Nothing started or changed; the only message is the refusal (through the response URL, not chat.*).
      expect(posts().length).toBe(postsBefore);
      expect(await world()).toEqual(before);
    });
  }

  it('control: the same measurement sees a real start (a workflow, a root message, a script)', async () => {
    const r = await h.command('web-farm v2', 'UCAROL');
    expect(r.status).toBe(200);
    await waitFor(() => posts().length > before.posts, 10_000, 'a root message');
    const deadline = Date.now() + 30_000;
    let after = await world();
    while (!(after.workflows > before.workflows && after.files.some((f) => f.includes('deployed-v2')))) {
      if (Date.now() > deadline) throw new Error(`no start seen: ${JSON.stringify(after)}`);
      await new Promise((r) => setTimeout(r, 200));
      after = await world();
    }
    expect(after).not.toEqual(before);
  });
});
