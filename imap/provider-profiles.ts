import { NO_RATE_LIMITS, type EndpointRateLimits } from './rate-limit';

/** The kinds of IMAP server the engine knows the differences of (an endpoint's `provider`). */
export type ImapProvider = 'generic' | 'dovecot' | 'gmail' | 'm365';

/**
 * Where IMAP servers differ, by the endpoint's `provider`. Limits are what a destination is known to refuse; the
 * engine skips such messages before sending them (reported as bad items with the reason) instead of spending an
 * APPEND on a refusal. A server's own APPENDLIMIT (RFC 7889) applies on top.
 */
export interface ProviderProfile {
  /** Largest message the destination accepts, in bytes; null = no known limit. */
  maxMessageBytes: number | null;
  /** Longest header field (name, value and folded lines together) the destination accepts; null = no limit. */
  maxHeaderFieldBytes: number | null;
  /** Admin login: Dovecot's `user*admin` form, or the SASL PLAIN authorization identity. */
  adminLogin: 'separator' | 'authzid';
  /** COMPRESS=DEFLATE when the server offers it (worth it over the internet, not on a LAN). */
  compression: boolean;
  /** Gmail: \Flagged/\Important views are not copied; All Mail last, without what the labels copied. */
  gmailFolders: boolean;
  /** The provider's published rate limits per direction (an endpoint overrides them: `rate_limits`). */
  rateLimits: EndpointRateLimits;
  /** The provider's CalDAV and CardDAV services, preset on a new endpoint of this provider; null: none known. */
  caldavUrl: string | null;
  carddavUrl: string | null;
}

const MiB = 1024 * 1024;
const MB = 1000 * 1000;
const unlimited: EndpointRateLimits = { download: NO_RATE_LIMITS, upload: NO_RATE_LIMITS };

export const PROVIDER_PROFILES: Record<ImapProvider, ProviderProfile> = {
  generic: {
    maxMessageBytes: null,
    maxHeaderFieldBytes: null,
    adminLogin: 'separator',
    compression: false,
    gmailFolders: false,
    rateLimits: unlimited,
    caldavUrl: null,
    carddavUrl: null,
  },
  dovecot: {
    maxMessageBytes: null,
    maxHeaderFieldBytes: null,
    adminLogin: 'separator',
    compression: false,
    gmailFolders: false,
    rateLimits: unlimited,
    caldavUrl: null,
    carddavUrl: null,
  },
  // Google documents IMAP uploads up to about 50 MB per message (after encoding).
  gmail: {
    maxMessageBytes: 50 * MiB,
    maxHeaderFieldBytes: null,
    adminLogin: 'authzid',
    compression: true,
    gmailFolders: true,
    // Google Workspace Admin Help, "Gmail bandwidth limits" (support.google.com/a/answer/1071518): per user,
    // 2,500 MB a day downloaded over IMAP and 500 MB a day uploaded. Taken as decimal MB, the lower reading.
    rateLimits: {
      download: { ...NO_RATE_LIMITS, mailboxBytesPerDay: 2500 * MB },
      upload: { ...NO_RATE_LIMITS, mailboxBytesPerDay: 500 * MB },
    },
    // Google's CalDAV API (v2) and its CardDAV service, found from the well-known address.
    caldavUrl: 'https://apidata.googleusercontent.com/caldav/v2/',
    carddavUrl: 'https://www.googleapis.com/.well-known/carddav',
  },
  // Exchange Online: 150 MB per migrated message (a mailbox's MaxReceiveSize may be lower: then the refusal is a
  // bad item), and header fields of at most 32 KB.
  m365: {
    maxMessageBytes: 150 * MiB,
    maxHeaderFieldBytes: 32 * 1024,
    adminLogin: 'authzid',
    compression: true,
    gmailFolders: false,
    // Microsoft publishes no IMAP bandwidth or message-rate limit for Exchange Online ("Exchange Online limits",
    // learn.microsoft.com/office365/servicedescriptions/exchange-online-service-description/exchange-online-limits:
    // its rate limits are for sending, which APPEND is not); it throttles with NO [THROTTLED]/BYE, which the engine
    // already answers with pauses. Set an endpoint's own limits when a tenant needs them.
    rateLimits: unlimited,
    caldavUrl: null,
    carddavUrl: null,
  },
};

export interface DestinationLimits {
  maxMessageBytes: number | null;
  maxHeaderFieldBytes: number | null;
}

/** The limits of a destination: its provider's profile, tightened by the APPENDLIMIT it advertises. */
export function destinationLimits(
  provider: ImapProvider,
  appendLimit: number | boolean | undefined,
): DestinationLimits {
  const p = PROVIDER_PROFILES[provider];
  const advertised = typeof appendLimit === 'number' && appendLimit > 0 ? appendLimit : null;
  const max = [p.maxMessageBytes, advertised].filter((x): x is number => x !== null);
  return { maxMessageBytes: max.length ? Math.min(...max) : null, maxHeaderFieldBytes: p.maxHeaderFieldBytes };
}

/** Why the destination would refuse this message, or null. Reads only the header for the field check. */
export function exceedsDestinationLimits(raw: Buffer, limits: DestinationLimits): string | null {
  if (limits.maxMessageBytes !== null && raw.length > limits.maxMessageBytes) {
    return `larger than the destination's limit of ${limits.maxMessageBytes} bytes`;
  }
  if (limits.maxHeaderFieldBytes !== null) {
    let end = raw.indexOf('\r\n\r\n');
    if (end < 0) end = raw.length;
    let fieldStart = 0;
    for (let i = 0; i <= end; i++) {
      const atLineStart = i === end || (raw[i - 2] === 0x0d && raw[i - 1] === 0x0a);
      // A field ends where a line starts that is not a continuation (space or tab).
      if (i > 0 && atLineStart && (i === end || (raw[i] !== 0x20 && raw[i] !== 0x09))) {
        if (i - fieldStart > limits.maxHeaderFieldBytes)
          return `a header field is longer than the destination's limit of ${limits.maxHeaderFieldBytes} bytes`;
        fieldStart = i;
      }
    }
  }
  return null;
}
