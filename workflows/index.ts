// The workflows the worker registers (this file is the bundle's entry point).
export { deployableWorkflow } from './deployable';
export { rolloutWorkflow } from './rollout';
export { targetChainWorkflow } from './targetChain';
export { targetLockWorkflow } from './targetLock';
