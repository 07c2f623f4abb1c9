import { ApiError } from '../api/api-error';

/**
 * Words for a refused command: a 409 names the status the batch is in now and what it allows (a per-mailbox
 * command's message names the mailbox's and its batch's statuses already); other errors get undefined.
 */
export function commandErrorText(error: unknown): string | undefined {
  if (!(error instanceof ApiError)) return undefined;
  const details = (error.details ?? {}) as { status?: string; allowedCommands?: string[] };
  const allowed = details.allowedCommands?.length ? details.allowedCommands.join(', ') : 'nothing';
  if (error.code === 'COMMAND_NOT_ALLOWED')
    return `${error.message} The batch is ${details.status ?? 'in another status'} now; it allows ${allowed}.`;
  if (error.code === 'MAILBOX_COMMAND_NOT_ALLOWED') return `${error.message}. The mailbox allows ${allowed} now.`;
  return undefined;
}
