import { ApiError } from '../api/api-error';

/** Words for a refused command: a 409 names the status the batch is in and what it allows now. */
export function commandErrorText(error: unknown): string | undefined {
  if (!(error instanceof ApiError) || error.code !== 'COMMAND_NOT_ALLOWED') return undefined;
  const details = (error.details ?? {}) as { status?: string; allowedCommands?: string[] };
  const allowed = details.allowedCommands?.length ? details.allowedCommands.join(', ') : 'nothing';
  return `${error.message} The batch is ${details.status ?? 'in another status'} now; it allows ${allowed}.`;
}
