// The rollout's clock. Inside the workflow sandbox Date is Temporal's deterministic workflow clock, not the wall
// clock, so every time written into state or history is the same on replay.
export const now = (): string => new Date().toISOString();

/** The workflow clock in epoch milliseconds (for timers computed from absolute times). */
export const nowMs = (): number => new Date().getTime();
