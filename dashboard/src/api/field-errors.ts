import { ApiError } from './api-error';

/** `VALIDATION_FAILED` answers list zod issues (`details.issues[{ path, message }]`); map them to form fields. */
export function fieldErrorsFromApi(error: unknown): Record<string, string> {
  if (!(error instanceof ApiError)) return {};
  // A taken name belongs next to the name field.
  if (error.code === 'BATCH_NAME_TAKEN' || error.code === 'ENDPOINT_NAME_TAKEN') return { name: error.message };
  if (error.code !== 'VALIDATION_FAILED') return {};
  const issues = (error.details as { issues?: { path?: string; message?: string }[] } | undefined)?.issues ?? [];
  const fields: Record<string, string> = {};
  for (const issue of issues) {
    const field = (issue.path ?? '').split('.')[0];
    if (field && !fields[field]) fields[field] = issue.message ?? 'invalid value';
  }
  return fields;
}
