// All I/O the workflows need, built from injected dependencies (transports, the Slack directory and notifier).
import { createApproverActivities, type ApproverDeps } from './approvers';
import { createDoubleHalfActivities } from './doubleHalf';
import { createScriptActivities, type ScriptActivityDeps } from './scripts';

export type ActivityDeps = ScriptActivityDeps & ApproverDeps;

export function createActivities(deps: ActivityDeps) {
  return {
    ...createScriptActivities(deps),
    ...createApproverActivities(deps),
    ...createDoubleHalfActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
