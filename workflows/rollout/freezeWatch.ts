// Deploy freezes during a rollout: a durable timer to the next freeze's start, a hold while it is in force (the
// stopping rule without the end: nothing new starts, started targets finish their chains), and a timer to its
// end, when the rollout resumes by itself. Workflow time only, so replay sees the same freezes at the same times.
import { condition } from '@temporalio/workflow';
import { freezeEnd, freezeInForce, nextFreezeStart } from '../../domain/freezes';
import { nowMs } from './clock';
import type { RolloutState } from './state';

export async function watchFreezes(state: RolloutState): Promise<void> {
  const { freezes, freezeOverride } = state.plan;
  if (!freezes || freezes.length === 0) return;
  const overridden = freezeOverride?.freezes ?? [];
  for (;;) {
    if (state.done) return;
    const t = nowMs();
    const f = freezeInForce(freezes, t, overridden);
    if (f) {
      const end = freezeEnd(freezes, t, overridden);
      state.steering.freeze(f, new Date(end).toISOString());
      await condition(() => state.done, end - t);
      if (state.done) return;
      state.steering.thaw();
      continue;
    }
    if (state.steering.frozen) state.steering.thaw();
    const next = nextFreezeStart(freezes, t, overridden);
    if (next === undefined) return;
    await condition(() => state.done, next - t);
  }
}
