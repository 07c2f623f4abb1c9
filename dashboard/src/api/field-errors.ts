import { ApiError } from './api-error';

/** `VALIDATION_FAILED` answers list zod issues (`details.issues[{ path, message }]`); map them to form fields. */
export function fieldErrorsFromApi(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError) || error.code !== 'VALIDATION_FAILED') return {};
  const issues = (error.details as { issues?: { path?: string; message?: string }[] } | undefined)?.issues ?? [];
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const field = (issue.path ?? '').split('.')[0];
    if (field && !fields[field]) fields[field] = issue.message ?? 'invalid value';
  }
  return fields;
}
