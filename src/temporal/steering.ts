// The client side of steering a running rollout: pause, resume and a window change, each a workflow Update whose
// outcome is a typed Delivery (accepted, rejected with REFUSAL.steerRefused, or not delivered). Used by the CLI
// and the bot; the workflow checks who asks (its approvers) whatever the caller checked before.
import type { Client } from '@temporalio/client';
import { pauseUpdate, resumeUpdate, windowUpdate, type SteerResult } from '../../workflows/steeringMessages';
import { DEFAULT_DELIVERY_TIMEOUT_MS, deliver, rolloutHandle, type Delivery } from './client';

export async function pauseRollout(
  client: Client,
  rolloutId: string,
  by: string,
  reason?: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<SteerResult>> {
  const rollout = rolloutHandle(client, rolloutId);
  return deliver(client, rollout, timeoutMs, () =>
    rollout.executeUpdate(pauseUpdate, { args: [{ by, ...(reason ? { reason } : {}) }] }),
  );
}

export async function resumeRollout(
  client: Client,
  rolloutId: string,
  by: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<SteerResult>> {
  const rollout = rolloutHandle(client, rolloutId);
  return deliver(client, rollout, timeoutMs, () => rollout.executeUpdate(resumeUpdate, { args: [{ by }] }));
}

export async function setRolloutWindow(
  client: Client,
  rolloutId: string,
  window: number,
  by: string,
  timeoutMs = DEFAULT_DELIVERY_TIMEOUT_MS,
): Promise<Delivery<SteerResult>> {
  const rollout = rolloutHandle(client, rolloutId);
  return deliver(client, rollout, timeoutMs, () => rollout.executeUpdate(windowUpdate, { args: [{ by, window }] }));
}
