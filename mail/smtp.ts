import type * as Nodemailer from 'nodemailer';
import type { SmtpSettings } from '../config/settings';

/** One e-mail as the reports send it. */
export interface OutgoingMail {
  to: string[];
  subject: string;
  text: string;
  attachments: { filename: string; content: string; contentType: string }[];
}

/**
 * Sends mail; the only holder of the SMTP password (in memory, in the worker). One connection per message
 * (nodemailer's plain SMTP transport), so there is nothing to close.
 */
export interface Mailer {
  send(mail: OutgoingMail): Promise<{ messageId: string | null }>;
}

/** A send the SMTP server refused, or could not be reached for. The message never carries the password. */
export class MailSendError extends Error {
  constructor(
    readonly code: 'SMTP_UNREACHABLE' | 'SMTP_AUTH_FAILED' | 'SMTP_REFUSED',
    message: string,
  ) {
    super(message);
    this.name = 'MailSendError';
  }
}

/** nodemailer's error codes (err.code) of a server that was never talked to. */
const UNREACHABLE = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EPROXY']);

/** Every wait of one send, so an SMTP server that accepts the connection and then says nothing cannot hang it. */
const TIMEOUT_MS = 30_000;

export function createSmtpMailer(settings: SmtpSettings): Mailer {
  // Loaded here, not with the module: a process with no SMTP server set never needs nodemailer's memory.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const nodemailer = require('nodemailer') as typeof Nodemailer;
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    connectionTimeout: TIMEOUT_MS,
    greetingTimeout: TIMEOUT_MS,
    socketTimeout: TIMEOUT_MS,
    // nodemailer logs nothing unless asked; its debug output would show the AUTH exchange.
    logger: false,
    debug: false,
  });
  const redact = (text: string) => (settings.password ? text.split(settings.password).join('[redacted]') : text);
  return {
    async send(mail) {
      try {
        const info = await transport.sendMail({ from: settings.from, ...mail });
        return { messageId: typeof info.messageId === 'string' ? info.messageId : null };
      } catch (err) {
        const e = err as { code?: string; message?: string };
        const code = UNREACHABLE.has(e.code ?? '')
          ? 'SMTP_UNREACHABLE'
          : e.code === 'EAUTH'
            ? 'SMTP_AUTH_FAILED'
            : 'SMTP_REFUSED';
        const message = `${settings.host}:${settings.port}: ${redact(e.message ?? String(err)).slice(0, 500)}`;
        throw new MailSendError(code, message);
      }
    },
  };
}
