import { z } from 'zod';
import { TokenError } from './token-error';

/** The fields of a Google service-account key file this product uses. */
export const serviceAccountKey = z.object({
  type: z.literal('service_account'),
  client_email: z.string().min(1),
  private_key: z.string().includes('PRIVATE KEY'),
  private_key_id: z.string().optional(),
  token_uri: z.url().optional(),
});

/** Parses a service-account key JSON (the file Google Cloud's console downloads); throws {@link TokenError} CREDENTIALS_INVALID naming what is wrong. */
export function parseServiceAccountKey(json: string): z.infer<typeof serviceAccountKey> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new TokenError('CREDENTIALS_INVALID', 'the service-account key is not JSON');
  }
  const parsed = serviceAccountKey.safeParse(value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || 'key').join(', ');
    throw new TokenError('CREDENTIALS_INVALID', `the service-account key is not usable (check: ${fields})`);
  }
  return parsed.data;
}
