// The `rollout` command line. Only wiring: each command's logic is in ./commands/, taking an injected context.
// Exit codes: 0 ok, 1 failed/rejected, 2 bad usage or request (nothing started or changed), 3 not delivered.
// Each command's module is imported when the command runs: `--help` (and a short command) must not load Temporal's
// worker, Bolt and the SSH stack (seconds of start-up on a busy machine).
import { readFileSync } from 'node:fs';
import { Argument, Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import type { Env } from '../env';
import { DECISION_CHOICES, type DecisionChoice } from '../../domain/decisions';
import type { ServerAction } from './commands/server';
import type { SteerCommandOptions } from './commands/steer';
import type { CliContext } from './context';
import { EXIT } from './exit';

/** The version in package.json (`rollout --version`). */
export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const collect = (value: string, previous: string[]) => [...previous, value];

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number of seconds');
  return n;
}

function windowCount(value: string): number {
  if (!/^[1-9]\d{0,4}$/.test(value)) throw new InvalidArgumentError('must be a whole number ≥ 1');
  return Number(value);
}

const configOption = () => new Option('-c, --config <file>', 'config file (default: $ROLLOUT_CONFIG)');
const asOption = () => new Option('--as <who>', 'act as this identity (default: cli:<your user name>)');
const timeoutOption = () =>
  new Option('--timeout <seconds>', 'how long to keep trying to deliver (default 15)').argParser(seconds);

export function buildProgram(ctx: CliContext, setExit: (code: number) => void, markLongRunning: () => void): Command {
  const program = new Command('rollout')
    .description('Rolling deployments as durable Temporal workflows')
    .version(VERSION, '-V, --version', 'print the version (from package.json)')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
    });

  program
    .command('validate')
    .description('check a config file')
    .argument('<config>', 'config file (YAML or JSON)')
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .action(async (file: string, opts: { json?: boolean }) =>
      setExit(await (await import('./commands/validate')).validateCommand(ctx, file, opts)),
    );

  program
    .command('schema')
    .description('print the JSON Schema of the config file (for editors; checked in as schema/rollout.schema.json)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ rollout schema > rollout.schema.json\n  # in rollout.yaml: # yaml-language-server: $schema=./rollout.schema.json\n',
    )
    .action(async () => setExit((await import('./commands/schema')).schemaCommand(ctx)));

  program
    .command('worker')
    .description('run a worker on the task queue until SIGINT/SIGTERM')
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      markLongRunning();
      setExit(await (await import('./commands/worker')).workerCommand(ctx, opts));
    });

  program
    .command('start')
    .description('start a rollout and print its id')
    .argument('<deployable>')
    .argument('<release>')
    .option('--var <K=V>', 'set a variable the deployable declares (repeatable)', collect, [] as string[])
    .addOption(asOption())
    .option('--wait', 'follow progress until the rollout ends (exit 0 only if it succeeded)')
    .option(
      '--plan',
      'print what the rollout would do (steps, targets, stages, approvers, freezes, lock); start nothing',
    )
    .option('--json', 'machine-readable output: with --plan the preview, else {"rolloutId", "position", ...}')
    .option(
      '--override-freeze <reason>',
      'start during a deploy freeze (freezeOverriders only; the reason is recorded)',
    )
    .option('--env <environment>', 'the environment to roll out to (deployables with environments)')
    .addOption(configOption())
    .action(
      async (
        deployable: string,
        release: string,
        opts: {
          var: string[];
          as?: string;
          wait?: boolean;
          plan?: boolean;
          json?: boolean;
          config?: string;
          overrideFreeze?: string;
          env?: string;
        },
      ) => {
        if (opts.wait) markLongRunning();
        setExit(await (await import('./commands/start')).startCommand(ctx, deployable, release, opts));
      },
    );

  program
    .command('promote')
    .description('roll a release into the next environment of its lifecycle and print the rollout id')
    .argument('<deployable>')
    .argument('<release>')
    .option('--var <K=V>', 'set a variable the deployable declares (repeatable)', collect, [] as string[])
    .addOption(asOption())
    .option('--wait', 'follow progress until the rollout ends (exit 0 only if it succeeded)')
    .addOption(configOption())
    .action(
      async (
        deployable: string,
        release: string,
        opts: { var: string[]; as?: string; wait?: boolean; config?: string },
      ) => {
        if (opts.wait) markLongRunning();
        setExit(await (await import('./commands/start')).promoteCommand(ctx, deployable, release, opts));
      },
    );

  program
    .command('status')
    .description("show a rollout's progress, or one target's detail")
    .argument('<rolloutId>')
    .option('--target <name>', "one target's detail")
    .option('--json', 'machine-readable output')
    .addOption(configOption())
    .action(async (id: string, opts: { target?: string; json?: boolean; config?: string }) =>
      setExit(await (await import('./commands/status')).statusCommand(ctx, id, opts)),
    );

  program
    .command('cancel')
    .description('cancel a rollout')
    .argument('<rolloutId>')
    .addOption(asOption())
    .option('--reason <text>', 'why (shown in the rollout)')
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .action(
      async (id: string, opts: { as?: string; reason?: string; json?: boolean; timeout?: number; config?: string }) =>
        setExit(await (await import('./commands/cancel')).cancelCommand(ctx, id, opts)),
    );

  program
    .command('decide')
    .description('answer a pending decision')
    .argument('<rolloutId>')
    .argument('<decisionId>')
    .addArgument(new Argument('<choice>', 'the answer').choices(DECISION_CHOICES))
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')

    .addOption(timeoutOption())
    .addOption(configOption())
    .action(
      async (
        id: string,
        decisionId: string,
        choice: string,
        opts: { as?: string; json?: boolean; timeout?: number; config?: string },
      ) => {
        setExit(
          await (await import('./commands/decide')).decideCommand(ctx, id, decisionId, choice as DecisionChoice, opts),
        );
      },
    );

  const example = (lines: string[]) => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

  program
    .command('list')
    .description('running and queued rollouts, locks and recent rollouts, per deployable')
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(configOption())
    .addHelpText('after', example(['rollout list', 'rollout list --json | jq ".deployables[].running"']))
    .action(async (opts: { json?: boolean; config?: string }) =>
      setExit(await (await import('./commands/list')).listCommand(ctx, opts)),
    );

  program
    .command('history')
    .description("a deployable's releases, newest first, and the release each target last received")
    .argument('<deployable>')
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(configOption())
    .addHelpText('after', example(['rollout history web-farm', 'rollout history web-farm --json | jq ".targets"']))
    .action(async (deployable: string, opts: { json?: boolean; config?: string }) =>
      setExit(await (await import('./commands/history')).historyCommand(ctx, deployable, opts)),
    );

  program
    .command('rollback')
    .description(
      'roll out the last release that succeeded before the latest one (after a failed or stopped rollout: only on the targets it reached, in reverse order)',
    )
    .argument('<deployable>')
    .option('--of <rolloutId>', 'the rollout to roll back; refused unless it is still the latest (default: the latest)')
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(configOption())
    .addHelpText('after', example(['rollout rollback web-farm -c rollout.yaml', 'rollout rollback web-farm --json']))
    .action(async (deployable: string, opts: { of?: string; as?: string; json?: boolean; config?: string }) =>
      setExit(await (await import('./commands/rollback')).rollbackCommand(ctx, deployable, opts)),
    );

  program
    .command('lock')
    .description('hold a deployable: nobody else can roll it out (they see who holds it and why)')
    .argument('<deployable>')
    .argument('<reason...>', 'why (shown to anyone who tries to roll it out)')
    .option('--take-over', 'take the lock from whoever holds it (recorded: who took it from whom, when)')
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .addHelpText(
      'after',
      example([
        'rollout lock web-farm investigating the 14:00 incident',
        'rollout lock web-farm db migration --take-over',
      ]),
    )
    .action(
      async (
        deployable: string,
        reason: string[],
        opts: { as?: string; takeOver?: boolean; json?: boolean; timeout?: number; config?: string },
      ) => setExit(await (await import('./commands/lock')).lockCommand(ctx, deployable, reason, opts)),
    );

  program
    .command('unlock')
    .description('release your lock on a deployable')
    .argument('<deployable>')
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .addHelpText('after', example(['rollout unlock web-farm']))
    .action(async (deployable: string, opts: { as?: string; json?: boolean; timeout?: number; config?: string }) =>
      setExit(await (await import('./commands/lock')).unlockCommand(ctx, deployable, opts)),
    );

  program
    .command('pause')
    .description('pause a rollout: targets in flight finish their chains, nothing new starts')
    .argument('<rolloutId>')
    .addOption(asOption())
    .option('--reason <text>', 'why (shown in the thread and in status)')
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .action(async (id: string, opts: SteerCommandOptions) =>
      setExit(await (await import('./commands/steer')).steerCommand(ctx, id, { kind: 'pause' }, opts)),
    );

  program
    .command('resume')
    .description('resume a paused rollout')
    .argument('<rolloutId>')
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .action(async (id: string, opts: SteerCommandOptions) =>
      setExit(await (await import('./commands/steer')).steerCommand(ctx, id, { kind: 'resume' }, opts)),
    );

  program
    .command('window')
    .description('set the window of the running rolling step and of every later one')
    .argument('<rolloutId>')
    .addArgument(new Argument('<size>', 'targets in flight at most').argParser(windowCount))
    .addOption(asOption())
    .option('--json', 'machine-readable output (fields: see the README, "JSON output")')
    .addOption(timeoutOption())
    .addOption(configOption())
    .action(async (id: string, size: number, opts: SteerCommandOptions) =>
      setExit(await (await import('./commands/steer')).steerCommand(ctx, id, { kind: 'window', window: size }, opts)),
    );

  program
    .command('server')
    .description('manage the embedded Temporal dev server (in $ROLLOUT_STATE_DIR)')
    .addArgument(new Argument('<action>').choices(['start', 'stop', 'status']))
    .action(async (action: string) => {
      setExit(await (await import('./commands/server')).serverCommand(ctx, action as ServerAction));
    });

  program
    .command('bot')
    .description('run the Slack bot (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET; SLACK_APP_TOKEN for Socket Mode)')
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      markLongRunning();
      setExit(await (await import('./commands/bot')).botCommand(ctx, opts));
    });

  program
    .command('bundle')
    .description('bundle the workflow code into <file> (workers load it with ROLLOUT_WORKFLOW_BUNDLE)')
    .argument('<file>')
    .action(async (file: string) => {
      setExit(await (await import('./commands/bundle')).bundleCommand(ctx, file));
    });

  program
    .command('dev')
    .description(
      'npm start: the local console, bot, worker, demo farm and embedded Temporal (or the real bot with Slack tokens)',
    )
    .addOption(configOption())
    .action(async (opts: { config?: string }) => {
      markLongRunning();
      setExit(await (await import('./commands/dev')).devCommand(ctx, opts));
    });

  return program;
}

export async function runCli(
  argv: string[],
  io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream; env: Env; signal?: AbortSignal },
  markLongRunning: () => void = () => undefined,
): Promise<number> {
  let code: number = EXIT.OK;
  const ctx: CliContext = {
    env: io.env,
    stdout: io.stdout,
    stderr: io.stderr,
    ...(io.signal ? { signal: io.signal } : {}),
  };
  const program = buildProgram(ctx, (c) => (code = c), markLongRunning);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed the problem (or the help).
      return e.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    io.stderr.write(`rollout: ${(e as Error).message ?? String(e)}\n`);
    if (io.env.ROLLOUT_DEBUG && (e as Error).stack) io.stderr.write(`${(e as Error).stack}\n`);
    return EXIT.FAILED;
  }
}

/**
 * `rollout`, `rollout --help`, `rollout <command> --help` and `rollout --version` print text only: they need no
 * environment, so they do not load its schema (zod, ~180 ms of the ~450 ms such a call took).
 */
export function printsOnly(argv: string[]): boolean {
  if (argv.length === 0) return true;
  const [first] = argv;
  if (first === '--version' || first === '-V' || first === 'help') return true;
  return argv.includes('--help') || argv.includes('-h');
}

/** What `ctx.env` is for a call that prints only: reading it is a bug, and says so. */
const NO_ENV = new Proxy({} as Env, {
  get(_target, key) {
    throw new Error(`internal: the environment was not loaded for this call (read of ${String(key)})`);
  },
});

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  let env: Env = NO_ENV;
  if (!printsOnly(argv)) {
    const { EnvError, loadEnv } = await import('../env');
    try {
      env = loadEnv();
    } catch (e) {
      if (!(e instanceof EnvError)) throw e;
      process.stderr.write(`rollout: ${e.message}\n`);
      process.exit(EXIT.USAGE);
    }
  }
  // No Temporal Runtime here: the commands that run a worker (worker, bot, dev) install theirs, with their logger
  // (and the worker's metrics endpoint), before their first worker connection.
  // SIGINT/SIGTERM: long-running commands (worker, start --wait) stop gracefully; a second signal, or a signal
  // during a short command, exits at once.
  const controller = new AbortController();
  let longRunning = false;
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (!longRunning || signals > 1) process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const code = await runCli(
    argv,
    { stdout: process.stdout, stderr: process.stderr, env, signal: controller.signal },
    () => (longRunning = true),
  );
  // Exit explicitly: connections and the native runtime must not keep a finished command alive.
  process.exit(code);
}

await main();
