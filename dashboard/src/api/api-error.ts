/** An error the API answered with (`{"error":{"code","message","details"}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The words to show a person for any thrown value. */
export function errorText(error: unknown): string {
  if (error instanceof ApiError) return error.message || `${error.code} (HTTP ${error.status})`;
  if (error instanceof Error) return error.message;
  return String(error);
}
