import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Why a sealed value could not be opened: a wrong key, a corrupt value, or an unknown format. */
export class SecretBoxError extends Error {
  readonly code = 'SECRET_UNREADABLE';
}

/**
 * Authenticated encryption (AES-256-GCM) of secrets at rest: endpoint and mailbox passwords, OAuth tokens.
 * A sealed value is `version(1) | iv(12) | tag(16) | ciphertext`. `context` (for example `mailbox:42:source`)
 * is bound as additional data, so a ciphertext copied onto another row does not open.
 */
export interface SecretBox {
  seal(plaintext: string, context: string): Buffer;
  open(sealed: Buffer, context: string): string;
}

export function createSecretBox(key: Buffer): SecretBox {
  if (key.length !== 32) throw new SecretBoxError('the secret key must be 32 bytes');
  return {
    seal(plaintext, context) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
    },
    open(sealed, context) {
      if (sealed.length < 1 + IV_BYTES + TAG_BYTES || sealed[0] !== VERSION) {
        throw new SecretBoxError('stored secret has an unknown format');
      }
      const iv = sealed.subarray(1, 1 + IV_BYTES);
      const tag = sealed.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(tag);
      try {
        return Buffer.concat([decipher.update(sealed.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        throw new SecretBoxError('stored secret could not be decrypted (wrong key or tampered value)');
      }
    },
  };
}

/** Context strings, one place, so sealing and opening always agree. */
export const secretContext = {
  endpointAdmin: (endpointId: string) => `endpoint:${endpointId}:admin`,
  mailboxSource: (batchId: string, email: string) => `mailbox:${batchId}:${email.toLowerCase()}:source`,
  mailboxDestination: (batchId: string, email: string) => `mailbox:${batchId}:${email.toLowerCase()}:destination`,
};
