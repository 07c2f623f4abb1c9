import {
  isGrpcDeadlineError,
  isGrpcServiceError,
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client';
import { WorkflowNotFoundError } from '@temporalio/common';
import type { UpdateDefinition } from '@temporalio/common';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import {
  commandUpdate,
  mailboxCommandUpdate,
  mailboxesChangedSignal,
  statusQuery,
  type BatchSnapshot,
  type CommandRequest,
  type MailboxCommandRequest,
  type MailboxCommandResult,
} from '../domain/batch-messages';
import { batchWorkflowId, type BatchWorkflowInput } from '../domain/batch-workflow-input';
import { batchWorkflow } from '../workflows';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

/**
 * The API's side of the batch workflow: start it, query its live status, send it commands. Every Temporal
 * failure becomes an ApiError with a stable code.
 */

export { batchWorkflowId as workflowIdFor, type BatchWorkflowInput };

const GRPC_NOT_FOUND = 5;
const GRPC_UNAVAILABLE = 14;

function grpcCode(err: unknown): number | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (isGrpcServiceError(current)) return current.code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isDeadline(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current; depth++) {
    if (isGrpcDeadlineError(current) || current instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export function unavailable(err: unknown): ApiError {
  return new ApiError('TEMPORAL_UNAVAILABLE', 'the workflow service (Temporal) is not reachable; try again', {
    reason: err instanceof Error ? err.message.slice(0, 200) : undefined,
  });
}

export async function startBatchWorkflow(deps: ApiDeps, workflowId: string, input: BatchWorkflowInput): Promise<void> {
  await deps.temporal.withDeadline(Date.now() + (deps.startTimeoutMs ?? 10_000), () =>
    // By the function, not its name: the arguments are type-checked against the workflow's signature.
    deps.temporal.workflow.start(batchWorkflow, {
      workflowId,
      taskQueue: deps.taskQueue,
      args: [
        {
          ...input,
          ...(deps.searchAttributes ? { searchAttributes: true } : {}),
          ...(deps.batchPolicy ? { policy: deps.batchPolicy } : {}),
        },
      ],
    }),
  );
}

export function isAlreadyStarted(err: unknown): boolean {
  return err instanceof WorkflowExecutionAlreadyStartedError;
}

/** Tells the batch's workflow that its mailboxes changed; best effort (a later pass reloads the counts anyway). */
export async function notifyMailboxesChanged(deps: ApiDeps, workflowId: string): Promise<void> {
  try {
    await deps.temporal.workflow.getHandle(workflowId).signal(mailboxesChangedSignal);
  } catch (err) {
    deps.logger.warn('could not tell the batch workflow about added mailboxes', { workflowId, error: String(err) });
  }
}

/** The workflow's live snapshot, or undefined when it cannot answer (gone, no worker, Temporal down). */
export async function queryBatch(deps: ApiDeps, workflowId: string): Promise<BatchSnapshot | undefined> {
  try {
    const handle = deps.temporal.workflow.getHandle(workflowId);
    return await deps.temporal.withDeadline(Date.now() + (deps.queryTimeoutMs ?? 3000), () =>
      handle.query(statusQuery),
    );
  } catch {
    return undefined;
  }
}

/**
 * Since when the batch's workflow has had work that no worker has picked up: its oldest workflow task or
 * activity (a mailbox sync, mostly) in state SCHEDULED, not started; null when none waits or Temporal cannot
 * say. A retry waiting out its backoff is scheduled in the future and does not count.
 */
export async function waitingForWorkerSince(deps: ApiDeps, workflowId: string): Promise<string | null> {
  try {
    const { raw } = await deps.temporal.withDeadline(Date.now() + (deps.queryTimeoutMs ?? 3000), () =>
      deps.temporal.workflow.getHandle(workflowId).describe(),
    );
    const { PendingActivityState, PendingWorkflowTaskState } = temporal.api.enums.v1;
    const scheduled = [
      ...(raw.pendingActivities ?? [])
        .filter((a) => a.state === PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED)
        .map((a) => optionalTsToMs(a.scheduledTime)),
      raw.pendingWorkflowTask?.state === PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_SCHEDULED
        ? optionalTsToMs(raw.pendingWorkflowTask.scheduledTime)
        : undefined,
    ].filter((ms): ms is number => ms !== undefined && ms <= Date.now());
    return scheduled.length > 0 ? new Date(Math.min(...scheduled)).toISOString() : null;
  } catch {
    return null;
  }
}

export type UpdateOutcome<T> =
  | { kind: 'accepted'; value: T }
  /** The workflow's validator refused the update (its status changed since the API's check). */
  | { kind: 'rejected'; message: string };

export type CommandOutcome = UpdateOutcome<BatchSnapshot>;

export function sendCommand(deps: ApiDeps, workflowId: string, request: CommandRequest): Promise<CommandOutcome> {
  return sendUpdate(deps, workflowId, commandUpdate, request);
}

export function sendMailboxCommand(
  deps: ApiDeps,
  workflowId: string,
  request: MailboxCommandRequest,
): Promise<UpdateOutcome<MailboxCommandResult>> {
  return sendUpdate(deps, workflowId, mailboxCommandUpdate, request);
}

/** Runs one update of the batch's workflow to completion; every Temporal failure becomes an ApiError. */
async function sendUpdate<T, A>(
  deps: ApiDeps,
  workflowId: string,
  update: UpdateDefinition<T, [A]>,
  request: A,
): Promise<UpdateOutcome<T>> {
  const handle = deps.temporal.workflow.getHandle(workflowId);
  try {
    const value = await deps.temporal.withDeadline(Date.now() + (deps.commandTimeoutMs ?? 30_000), () =>
      handle.executeUpdate(update, { args: [request] }),
    );
    return { kind: 'accepted', value };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const cause = err.cause?.message ?? err.message;
      return { kind: 'rejected', message: cause.slice(0, 300) };
    }
    if (err instanceof WorkflowNotFoundError || grpcCode(err) === GRPC_NOT_FOUND) {
      throw new ApiError('WORKFLOW_NOT_RUNNING', 'the batch workflow is not running (it ended or was removed)', {
        workflowId,
      });
    }
    if (isDeadline(err)) {
      throw new ApiError(
        'COMMAND_TIMEOUT',
        'the batch workflow did not apply the command in time; is the worker running?',
        {
          workflowId,
        },
      );
    }
    if (grpcCode(err) === GRPC_UNAVAILABLE || err instanceof ServiceError) throw unavailable(err);
    throw err;
  }
}
