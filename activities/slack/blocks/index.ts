// Block Kit messages of the rollout bot: pure functions from workflow query results to `{ text, blocks }`.
export * from './ids';
export { rootMessage, type RootMessageOptions } from './root';
export { failureCard, manualCard, decisionOutcome, manualOutcome, outcomeLine, tailBlock } from './decisions';
export { stepStarted, rolloutEnded, statusReply, ephemeral, threadEvent, type EphemeralOptions } from './thread';
export { help } from './help';
export { escapeMrkdwn, type Block, type SlackMessage } from './text';
