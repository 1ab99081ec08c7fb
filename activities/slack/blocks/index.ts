// Block Kit messages of the rollout bot: pure functions from workflow query results to `{ text, blocks }`.
export * from './ids';
export { rootMessage, rollbackButton } from './root';
export { historyMessage, lockNotice, rollbackPrompt } from './releases';
export { failureCard, manualCard, decisionOutcome, manualOutcome } from './decisions';
export { stepStarted, rolloutEnded, statusReply, ephemeral } from './thread';
export { help } from './help';
export { previewMessage } from './preview';
export { escalationPost, reminderMessage, targetWaiting, type ReminderEvent } from './reminders';
export { rampStage, steered, steeringLine, type RampStageEvent, type StepRampInfo } from './steering';
export type { Block, SlackMessage } from './text';
