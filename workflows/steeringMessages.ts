// Steering a running rollout: Pause, Resume and a window change, each a workflow Update with a validator (the
// same authorisation and audit as decisions). Defined once, imported by the workflow, the CLI and the bot.
import { defineUpdate } from '@temporalio/workflow';

export interface PauseInput {
  by: string;
  reason?: string;
}
export interface ResumeInput {
  by: string;
}
export interface WindowInput {
  by: string;
  /** The new window of the running rolling step and of every later one (a whole number ≥ 1). */
  window: number;
}

/**
 * One entry of a rollout's steering record, shown in `status` and the thread: who paused, resumed or changed
 * the window and when, the freezes that held it, an overridden freeze, a MaxParallelism override.
 */
export type SteeringRecord =
  | { kind: 'paused'; by: string; at: string; reason?: string }
  | { kind: 'resumed'; by: string; at: string }
  | { kind: 'window'; by: string; at: string; window: number; previous?: number }
  | { kind: 'maxParallelism'; by: 'MaxParallelism'; at: string; window: number; step: string; configured: string }
  | { kind: 'frozen'; by: 'freeze'; at: string; freeze: string; reason: string; until: string }
  | { kind: 'thawed'; by: 'freeze'; at: string; freeze: string }
  | { kind: 'freezeOverridden'; by: string; at: string; reason: string; freezes: string[] };

export interface SteerResult {
  /** The record the update added. */
  record: SteeringRecord;
  /** What it means, for the person who asked (`paused: targets in flight finish, nothing new starts`). */
  message: string;
}

export const pauseUpdate = defineUpdate<SteerResult, [PauseInput]>('pause');
export const resumeUpdate = defineUpdate<SteerResult, [ResumeInput]>('resume');
export const windowUpdate = defineUpdate<SteerResult, [WindowInput]>('window');
