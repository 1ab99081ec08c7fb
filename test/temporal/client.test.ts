// How the client tells Temporal's answers apart: by the SDK's error classes, gRPC codes and the refusal's
// ApplicationFailure type, never by the wording of a message.
import {
  ApplicationFailure,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import { REFUSAL } from '../../domain/failures';
import { isNotConfirmedInTime, isNotFound, refusalOf } from '../../src/temporal/client';

const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
const updateFailed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

describe('refusalOf', () => {
  it('a typed refusal keeps its REFUSAL type and the workflow’s reason', () => {
    expect(
      refusalOf(updateFailed(ApplicationFailure.nonRetryable('r1 is not queued for web', REFUSAL.notQueued))),
    ).toEqual({
      reason: 'r1 is not queued for web',
      type: 'NotQueued',
    });
  });

  it('an untyped refusal (a validator throwing Error arrives as type "Error") is still a refusal, without a type', () => {
    expect(
      refusalOf(updateFailed(ApplicationFailure.create({ message: 'U1 may not withdraw r1', type: 'Error' }))),
    ).toEqual({
      reason: 'U1 may not withdraw r1',
    });
  });

  it('anything but an update failure is no refusal', () => {
    expect(refusalOf(new Error('DecisionRefused: already answered'))).toBeUndefined();
    expect(refusalOf(new WorkflowNotFoundError('workflow not found for ID: r1', 'r1', undefined))).toBeUndefined();
  });
});

describe('isNotFound / isNotConfirmedInTime', () => {
  it('go by class and gRPC code, not by the message', () => {
    expect(isNotFound(new WorkflowNotFoundError('gone', 'r1', undefined))).toBe(true);
    expect(isNotFound(grpcError(5, 'workflow not found for ID: r1'))).toBe(true);
    expect(isNotFound(new Error('workflow not found for ID: r1'))).toBe(false);
    expect(isNotFound(grpcError(3, 'not found in the request'))).toBe(false);

    expect(isNotConfirmedInTime(new WorkflowUpdateRPCTimeoutOrCancelledError('Deadline exceeded'))).toBe(true);
    expect(
      isNotConfirmedInTime(
        Object.assign(new Error('Failed to query Workflow'), { cause: grpcError(4, 'Deadline exceeded') }),
      ),
    ).toBe(true);
    expect(isNotConfirmedInTime(grpcError(1, 'Cancelled on client'))).toBe(true);
    expect(isNotConfirmedInTime(new Error('the deploy timed out'))).toBe(false);
  });
});
