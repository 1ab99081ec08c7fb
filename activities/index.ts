// All I/O the workflows need, built from injected dependencies (transports, the Slack directory and notifier).
import { createApproverActivities, type ApproverDeps } from './approvers';
import { createScriptActivities, type ScriptActivityDeps } from './scripts';

export type ActivityDeps = ScriptActivityDeps & ApproverDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createScriptActivities(deps),
    ...createApproverActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
