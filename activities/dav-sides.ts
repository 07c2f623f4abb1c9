import { getBearerAuthHeaders } from 'tsdav';
import type { SyncEndpointRow } from '../db/mailbox-sync-rows';
import { basicAuthorization, type DavAuthorization, type DavService } from '../dav/client';
import type { Side } from '../dav/errors';
import type { DavSide } from '../dav/mailbox-sync';
import type { ImapCredentials } from '../imap/connection';

/**
 * How a mailbox logs in to its endpoint's CalDAV and CardDAV services: with its own password (basic), or with
 * the access token an XOAUTH2 endpoint's mailbox has (bearer). An admin login acting for the user is IMAP only
 * (Dovecot's master user): then there is none, and that side's calendars and contacts are not synced.
 */
export function davAuthorizationOf(endpoint: SyncEndpointRow, credentials: ImapCredentials): DavAuthorization | null {
  const { secret, accessToken } = credentials;
  // A minted token is asked for at every request, so a long calendar sync outlives its tokens.
  if (accessToken) return async () => getBearerAuthHeaders({ accessToken: (await accessToken()).token });
  if (!secret) return null;
  if (endpoint.auth_method === 'xoauth2') {
    const headers = getBearerAuthHeaders({ accessToken: secret });
    return () => Promise.resolve(headers);
  }
  return basicAuthorization(credentials.user, secret);
}

/** One side's DAV services: those its endpoint has, as the mailbox logs in to them. */
export function davSideOf(endpoint: SyncEndpointRow, credentials: ImapCredentials, side: Side): DavSide {
  const authorization = davAuthorizationOf(endpoint, credentials);
  const service = (kind: DavService['kind'], url: string | null): DavService | null =>
    url && authorization ? { kind, url, authorization, side } : null;
  return { caldav: service('caldav', endpoint.caldav_url), carddav: service('carddav', endpoint.carddav_url) };
}

/** Whether both sides have at least one service of the same kind: only then is there anything to copy. */
export function hasDavPair(source: DavSide, destination: DavSide): boolean {
  return Boolean((source.caldav && destination.caldav) || (source.carddav && destination.carddav));
}
