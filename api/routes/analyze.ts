import type { z } from 'zod';
import { analyzeMailbox, type AnalyzeSide } from '../../imap/analyze';
import type { ImapCredentials } from '../../imap/connection';
import { ImapSyncError } from '../../imap/errors';
import { analysisSchema, analyzeBody } from '../contract/analyze';
import type { ApiDeps, ConnectionTestSettings } from '../deps';
import { ApiError } from '../errors';
import { imapEndpointOf, mintedCredentialsOf } from '../imap-tester';
import { defineRoute, type AnyRoute } from '../route';
import { errorSchema } from '../schemas';
import { findEndpoint, rowSettings, settingsOf } from './endpoints';

/** How long an analysis may take in all: logins, LIST, and EXAMINE and FETCH of every folder on both sides. */
export const ANALYZE_TIMEOUT_MS = 120_000;

type SideBody = z.output<typeof analyzeBody>['source'];

/**
 * One side's endpoint and credentials, chosen as the sync chooses them (activities/sync-mailbox.ts): the mailbox's
 * password when given, else the endpoint's admin login on behalf of the mailbox.
 */
async function sideOf(deps: ApiDeps, body: SideBody, name: 'source' | 'destination'): Promise<AnalyzeSide> {
  const settings: ConnectionTestSettings =
    typeof body.endpoint === 'string'
      ? rowSettings(deps, await findEndpoint(deps, body.endpoint))
      : settingsOf(body.endpoint);
  let credentials: ImapCredentials;
  const minted = mintedCredentialsOf(settings, body.userName, deps.tokens);
  if (minted) credentials = minted;
  else if (body.password) credentials = { user: body.userName, secret: body.password };
  else if (settings.adminUser && settings.adminPassword) {
    credentials = { user: body.userName, admin: { user: settings.adminUser, secret: settings.adminPassword } };
  } else {
    throw new ApiError(
      'CREDENTIALS_MISSING',
      `${name}: no password for ${body.userName} and no admin login on the endpoint`,
      { side: name },
    );
  }
  return { endpoint: imapEndpointOf(settings), credentials };
}

/** The engine's error as the API's: AUTH_FAILED, CONNECTION_FAILED and TLS_FAILED keep their code. */
function apiErrorOf(err: ImapSyncError): ApiError {
  const details = { side: err.side ?? null, imapCode: err.code };
  if (err.code === 'AUTH_FAILED' || err.code === 'CONNECTION_FAILED' || err.code === 'TLS_FAILED') {
    return new ApiError(err.code, err.message, details);
  }
  return new ApiError('IMAP_ERROR', err.message, details);
}

export const analyzeRoutes: AnyRoute[] = [
  defineRoute({
    method: 'post',
    path: '/analyze',
    operationId: 'analyzeMailbox',
    summary: 'Analyzes one mailbox before a migration; changes nothing on either server',
    description:
      'Logs in to both sides and answers, per source folder, the destination folder the sync would map it to, ' +
      'its messages and bytes on each side, and what the limits would skip (large items, folders filtered out). ' +
      'Folders are opened with EXAMINE and read with STATUS and FETCH RFC822.SIZE only.',
    tag: 'endpoints',
    access: 'admin',
    body: analyzeBody,
    responses: {
      200: { description: 'The analysis', schema: analysisSchema },
      404: { description: 'ENDPOINT_NOT_FOUND (a saved endpoint id that does not exist)', schema: errorSchema },
      422: { description: 'AUTH_FAILED (details.side) or CREDENTIALS_MISSING', schema: errorSchema },
      502: { description: 'CONNECTION_FAILED, TLS_FAILED or IMAP_ERROR (details.side)', schema: errorSchema },
      504: { description: 'ANALYSIS_TIMEOUT', schema: errorSchema },
    },
    async handler({ deps, body }) {
      const source = await sideOf(deps, body.source, 'source');
      const destination = await sideOf(deps, body.destination, 'destination');
      const signal = AbortSignal.timeout(ANALYZE_TIMEOUT_MS);
      let analysis;
      try {
        analysis = await analyzeMailbox(source, destination, {
          largeItemMaxBytes: body.largeItemMaxBytes,
          folderInclude: body.folderInclude,
          folderExclude: body.folderExclude,
          signal,
        });
      } catch (err) {
        if (signal.aborted) {
          throw new ApiError('ANALYSIS_TIMEOUT', `the analysis took longer than ${ANALYZE_TIMEOUT_MS / 1000} s`);
        }
        if (err instanceof ImapSyncError) throw apiErrorOf(err);
        throw err;
      }
      const summary = (s: AnalyzeSide) => ({
        host: s.endpoint.host,
        port: s.endpoint.port,
        security: s.endpoint.security,
        userName: s.credentials.user,
      });
      return {
        status: 200 as const,
        body: {
          source: summary(source),
          destination: summary(destination),
          largeItemMaxBytes: body.largeItemMaxBytes,
          ...analysis,
        },
      };
    },
  }),
];
