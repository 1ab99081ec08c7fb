// The script activity: substitutes variables, runs the script on one target through its transport, heartbeats.
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ScriptAction, TargetPlan, TransportKind } from '../domain/plan';
import { scriptEnvironment, substitute, SubstitutionError, type VariableContext } from '../domain/variables';
import { keepTail, TAIL_LIMITS } from '../domain/text';
import { TAIL_LIMIT, TransportError, type Transport } from './transports/types';

export interface RunScriptInput {
  rolloutId: string;
  stepName: string;
  child: ScriptAction;
  target: TargetPlan;
  release: string;
  deployable: string;
  requestedBy: string;
  /** Rollout/deployable variables; the target's own variables are merged over them. */
  variables: Record<string, string>;
  /** This machine's outputs so far: step name → name → value. */
  outputs: Record<string, Record<string, string>>;
}

export interface RunScriptOutput {
  exitCode: number | null;
  timedOut: boolean;
  tail: string;
  outputs: Record<string, string>;
  startedAt: string;
  endedAt: string;
  /** Set when the script could not run at all (bad substitution). */
  error?: string;
}

export const HEARTBEAT_INTERVAL_MS = 5_000;

export function joinTail(stdout: string, stderr: string, limit: number = TAIL_LIMITS.history): string {
  const both = stderr.trim() ? `${stdout}${stdout.endsWith('\n') || !stdout ? '' : '\n'}[stderr]\n${stderr}` : stdout;
  return keepTail(both, limit);
}

export interface ScriptActivityDeps {
  transports: Partial<Record<TransportKind, Transport>>;
}

export function createScriptActivities(deps: ScriptActivityDeps) {
  return {
    async runScript(input: RunScriptInput): Promise<RunScriptOutput> {
      const startedAt = new Date().toISOString();
      const ctx: VariableContext = {
        release: input.release,
        deployable: input.deployable,
        requestedBy: input.requestedBy,
        stepName: input.child.name,
        machineName: input.target.name,
        variables: { ...input.variables, ...input.target.variables },
        outputs: input.outputs,
      };
      let script: string;
      try {
        script = substitute(input.child.script, ctx);
      } catch (e) {
        if (e instanceof SubstitutionError) {
          return {
            exitCode: null,
            timedOut: false,
            tail: '',
            outputs: {},
            startedAt,
            endedAt: startedAt,
            error: e.message,
          };
        }
        throw e;
      }
      const transport = deps.transports[input.target.transport];
      if (!transport) {
        throw ApplicationFailure.nonRetryable(`no ${input.target.transport} transport on this worker`, 'no-transport');
      }
      const activity = Context.current();
      let lastLine = '';
      const beat = setInterval(() => activity.heartbeat({ lastLine: lastLine.slice(0, 200) }), HEARTBEAT_INTERVAL_MS);
      activity.heartbeat();
      try {
        const res = await transport.run({
          target: input.target,
          script,
          env: scriptEnvironment(ctx),
          timeoutMs: input.child.timeoutSec * 1000,
          signal: activity.cancellationSignal,
          onLine: (line) => {
            lastLine = line;
          },
        });
        return {
          exitCode: res.exitCode,
          timedOut: res.timedOut,
          tail: joinTail(res.stdoutTail.slice(-TAIL_LIMIT), res.stderrTail.slice(-TAIL_LIMIT)),
          outputs: res.outputs,
          startedAt,
          endedAt: new Date().toISOString(),
          ...(res.timedOut ? { error: `timed out after ${input.child.timeoutSec}s (process group killed)` } : {}),
          ...(res.aborted ? { error: 'cancelled (process group killed)' } : {}),
        };
      } catch (e) {
        if (e instanceof TransportError) {
          const msg = `${input.target.name}: ${e.message}`;
          throw e.retryable ? ApplicationFailure.retryable(msg, e.kind) : ApplicationFailure.nonRetryable(msg, e.kind);
        }
        throw e;
      } finally {
        clearInterval(beat);
      }
    },
  };
}
