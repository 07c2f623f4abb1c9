import {
  DAVNamespace,
  davRequest,
  fetchHomeUrl,
  fetchPrincipalUrl,
  getBasicAuthHeaders,
  getDAVAttribute,
  makeCalendar,
  propfind,
  serviceDiscovery,
  syncCollection,
  type DAVResponse,
} from 'tsdav';
import { classifyFetchFailure, classifyHttpStatus, DavSyncError, type Side } from './errors';

/**
 * One side's CalDAV or CardDAV service, spoken through tsdav (no hand-written XML): discovery of the home set,
 * the collections with their properties, sync-collection (RFC 6578) or ETag listings, objects read and written
 * as bytes. Every request carries the headers of {@link DavAuthorization} and the sync's abort signal; a 401 is
 * DAV_AUTH_FAILED, a request without an answer DAV_UNREACHABLE.
 */

/**
 * The Authorization header of a request, asked for before each one: basic with the mailbox's password today; a
 * bearer token (minted and refreshed by its owner) later, without the engine changing.
 */
export type DavAuthorization = () => Promise<Record<string, string>>;

/** Basic authentication as `user` (the mailbox's own password). */
export function basicAuthorization(user: string, password: string): DavAuthorization {
  const headers = getBasicAuthHeaders({ username: user, password });
  return () => Promise.resolve(headers);
}

export type DavServiceKind = 'caldav' | 'carddav';
export type CollectionKind = 'calendar' | 'addressbook';

/** Where one service of one side is and who speaks to it. */
export interface DavService {
  kind: DavServiceKind;
  /** The service's URL: a host only (discovery through /.well-known), a context path or the home itself. */
  url: string;
  authorization: DavAuthorization;
  side: Side;
}

/** A calendar or an address book with the properties the copy keeps. */
export interface DavCollection {
  kind: CollectionKind;
  url: string;
  displayName: string | null;
  description: string | null;
  /** Apple's calendar-color (calendars only). */
  color: string | null;
  /** CalDAV calendar-timezone: a VCALENDAR with one VTIMEZONE (calendars only). */
  timezone: string | null;
  /** Supported components (VEVENT, VTODO, VJOURNAL); empty when the server does not say. */
  components: string[];
  ctag: string | null;
  syncToken: string | null;
  supportsSyncCollection: boolean;
}

/** An object as the server serves it. */
export interface DavObject {
  body: Buffer;
  etag: string | null;
  contentType: string;
}

/** What a collection changed since a sync token: hrefs (paths) with their ETags, and deleted hrefs. */
export interface DavChanges {
  changed: Map<string, string | null>;
  deleted: string[];
  token: string | null;
}

/** The outcome of a conditional PUT or DELETE: 2xx (with the new ETag), or the status that refused it. */
export type WriteResult = { ok: true; etag: string | null } | { ok: false; status: number; reason: string };

const COLLECTION_PROPS = {
  'd:resourcetype': {},
  'd:displayname': {},
  'c:calendar-description': {},
  'card:addressbook-description': {},
  'ca:calendar-color': {},
  'c:calendar-timezone': {},
  'c:supported-calendar-component-set': {},
  'cs:getctag': {},
  'd:sync-token': {},
  'd:supported-report-set': {},
};

const text = (v: unknown): string | null => {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'object') {
    const inner = (v as { _cdata?: unknown; _text?: unknown })._cdata ?? (v as { _text?: unknown })._text;
    return inner === undefined ? null : String(inner);
  }
  return String(v);
};

/** The properties of a collection that are copied and kept up to date (not its kind or its components). */
function editableProps(like: DavCollection): Record<string, string> {
  const set = (name: string, value: string | null) => (value === null ? {} : { [name]: value });
  return {
    ...set('d:displayname', like.displayName),
    ...(like.kind === 'calendar'
      ? {
          ...set('c:calendar-description', like.description),
          ...set('ca:calendar-color', like.color),
          ...set('c:calendar-timezone', like.timezone),
        }
      : set('card:addressbook-description', like.description)),
  };
}

/** Whether a destination collection lacks a copied property of its source, or has another value for it. */
export function propertiesDiffer(source: DavCollection, destination: DavCollection): boolean {
  const there = editableProps(destination);
  return Object.entries(editableProps(source)).some(([name, value]) => there[name] !== value);
}

const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** A URL's path, decoded, the way hrefs are compared. */
export const hrefPath = (href: string, base: string): string => decodeURIComponent(new URL(href, base).pathname);

export class DavClient {
  private homeUrl: string | null;

  /**
   * `knownHome`: the home set a previous pass found (the parent of a collection it made there), used without
   * discovery; when it no longer answers as a collection, discovery runs after all.
   */
  constructor(
    readonly service: DavService,
    private readonly signal?: AbortSignal,
    private knownHome: string | null = null,
  ) {
    this.homeUrl = knownHome;
  }

  /** fetch with the authorization, the abort signal and the engine's classification of failures. */
  readonly fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const headers = new Headers(init.headers);
    for (const [k, v] of Object.entries(await this.service.authorization())) headers.set(k, v);
    let res: Response;
    try {
      res = await fetch(input, { ...init, headers, signal: this.signal });
    } catch (err) {
      throw classifyFetchFailure(err, this.service.side, url, this.signal);
    }
    if (res.status === 401) {
      await res.body?.cancel();
      throw classifyHttpStatus(401, this.service.side, `${init.method ?? 'GET'} ${new URL(url).pathname}`);
    }
    return res;
  };

  private fail(what: string, res: { status: number }): never {
    throw classifyHttpStatus(res.status, this.service.side, what);
  }

  /** The home set of the account: /.well-known, current-user-principal, calendar-/addressbook-home-set. */
  async home(): Promise<string> {
    if (this.homeUrl) return this.homeUrl;
    const { kind, url, side } = this.service;
    const account = { accountType: kind, serverUrl: url };
    // A host alone or its well-known address: discovery (RFC 6764) says where the service's context path is.
    const { pathname } = new URL(url);
    const discover = pathname === '/' || pathname.startsWith('/.well-known/');
    const rootUrl = discover ? await serviceDiscovery({ account, fetch: this.fetch }) : url;
    try {
      const principalUrl = await fetchPrincipalUrl({ account: { ...account, rootUrl }, fetch: this.fetch });
      this.homeUrl = await fetchHomeUrl({ account: { ...account, rootUrl, principalUrl }, fetch: this.fetch });
    } catch (err) {
      if (err instanceof DavSyncError) throw err;
      throw new DavSyncError(
        'DAV_NOT_FOUND',
        `${side} ${kind === 'caldav' ? 'CalDAV' : 'CardDAV'} discovery at ${url} failed: ${(err as Error).message}`,
        { side, cause: err },
      );
    }
    return this.homeUrl;
  }

  /** The calendars (CalDAV) or address books (CardDAV) in the home set, with their properties. */
  async collections(): Promise<DavCollection[]> {
    const home = await this.home();
    const responses = await propfind({ url: home, props: COLLECTION_PROPS, depth: '1', fetch: this.fetch });
    if (this.knownHome !== null) {
      const base = hrefPath(home, home);
      this.knownHome = null;
      if (!responses.some((r) => r.ok && r.href && hrefPath(r.href, home) === base)) {
        // Moved or gone since the pass that found it: discovery says where the home set is now.
        this.homeUrl = null;
        return this.collections();
      }
    }
    const wanted: CollectionKind = this.service.kind === 'caldav' ? 'calendar' : 'addressbook';
    return responses
      .filter((r) => r.ok && Object.keys(r.props?.resourcetype ?? {}).includes(wanted))
      .map((r) => this.collectionOf(r, home, wanted));
  }

  private collectionOf(r: DAVResponse, home: string, kind: CollectionKind): DavCollection {
    const p = r.props ?? {};
    const reports = asArray<{ report?: Record<string, unknown> }>(p.supportedReportSet?.supportedReport);
    return {
      kind,
      url: new URL(r.href ?? '', home).href,
      displayName: text(p.displayname),
      description: text(kind === 'calendar' ? p.calendarDescription : p.addressbookDescription),
      color: kind === 'calendar' ? text(p.calendarColor) : null,
      timezone: kind === 'calendar' ? text(p.calendarTimezone) : null,
      components: asArray<{ _attributes?: { name?: string } }>(p.supportedCalendarComponentSet?.comp)
        .map((c) => c._attributes?.name)
        .filter((n): n is string => typeof n === 'string'),
      ctag: text(p.getctag),
      syncToken: text(p.syncToken),
      supportsSyncCollection: reports.some((sr) => Object.keys(sr.report ?? {}).includes('syncCollection')),
    };
  }

  /**
   * Creates a collection with the properties of `like` (MKCALENDAR, or extended MKCOL for an address book).
   * Returns false when a collection of that kind exists at `url` already (made by a sync that crashed, or the
   * user's own).
   */
  async makeCollection(url: string, like: DavCollection): Promise<boolean> {
    const props = {
      ...editableProps(like),
      ...(like.kind === 'calendar'
        ? like.components.length
          ? {
              'c:supported-calendar-component-set': {
                'c:comp': like.components.map((name) => ({ _attributes: { name } })),
              },
            }
          : {}
        : { 'd:resourcetype': { 'd:collection': {}, 'card:addressbook': {} } }),
    };
    const [res] =
      like.kind === 'calendar'
        ? await makeCalendar({ url, props, fetch: this.fetch })
        : await davRequest({
            url,
            init: {
              method: 'MKCOL',
              namespace: 'd',
              body: {
                mkcol: {
                  _attributes: getDAVAttribute([DAVNamespace.DAV, DAVNamespace.CARDDAV]),
                  set: { prop: props },
                },
              },
            },
            fetch: this.fetch,
          });
    if (res?.ok) return true;
    // Already there (405 by RFC 4918, 403/409 by some servers): a collection of the same kind is used as it is.
    if (res && res.status < 500 && (await this.isCollection(url, like.kind))) return false;
    throw new DavSyncError(
      'DAV_COLLECTION_CREATE_FAILED',
      `destination refused to create ${like.kind} ${new URL(url).pathname}: ${res?.status ?? 'no answer'} ${res?.statusText ?? ''}`.trim(),
      { side: this.service.side },
    );
  }

  /**
   * Sets the collection properties of `like` that a PROPPATCH may change (name, description, colour, time zone) on
   * the collection at `url`. Returns whether the server took them all (a server may refuse one; the copy goes on).
   */
  async updateProperties(url: string, like: DavCollection): Promise<boolean> {
    const responses = await davRequest({
      url,
      init: {
        method: 'PROPPATCH',
        namespace: 'd',
        body: {
          propertyupdate: {
            _attributes: getDAVAttribute([
              DAVNamespace.DAV,
              DAVNamespace.CALDAV,
              DAVNamespace.CARDDAV,
              DAVNamespace.CALDAV_APPLE,
            ]),
            set: { prop: editableProps(like) },
          },
        },
      },
      fetch: this.fetch,
    });
    return responses.every((r) => r.ok);
  }

  private async isCollection(url: string, kind: CollectionKind): Promise<boolean> {
    const [res] = await propfind({ url, props: { 'd:resourcetype': {} }, depth: '0', fetch: this.fetch });
    return Boolean(res?.ok && Object.keys(res.props?.resourcetype ?? {}).includes(kind));
  }

  /**
   * The changes of a collection since `token` (RFC 6578; null: every object). Returns null when the server
   * refuses the token (expired, or from another server): the caller lists the ETags instead.
   */
  async changes(collectionUrl: string, token: string | null): Promise<DavChanges | null> {
    const responses = await syncCollection({
      url: collectionUrl,
      props: { 'd:getetag': {} },
      syncLevel: 1,
      syncToken: token ?? '',
      fetch: this.fetch,
    });
    const first = responses[0];
    const multistatus = (first?.raw as { multistatus?: { syncToken?: unknown } } | undefined)?.multistatus;
    if (!multistatus) {
      if (first && [400, 403, 409, 412].includes(first.status)) return null;
      this.fail(`REPORT sync-collection ${new URL(collectionUrl).pathname}`, first ?? { status: 0 });
    }
    const base = hrefPath(collectionUrl, collectionUrl);
    const changed = new Map<string, string | null>();
    const deleted: string[] = [];
    for (const r of responses) {
      if (!r.href) continue;
      const href = hrefPath(r.href, collectionUrl);
      if (href === base) continue;
      if (r.status === 404) deleted.push(href);
      else if (r.ok) changed.set(href, text(r.props?.getetag));
    }
    return { changed, deleted, token: text(multistatus.syncToken) };
  }

  /** Every object of a collection with its ETag (PROPFIND Depth 1), by href path. */
  async etags(collectionUrl: string): Promise<Map<string, string | null>> {
    const responses = await propfind({
      url: collectionUrl,
      props: { 'd:getetag': {}, 'd:resourcetype': {} },
      depth: '1',
      fetch: this.fetch,
    });
    const base = hrefPath(collectionUrl, collectionUrl);
    const out = new Map<string, string | null>();
    for (const r of responses) {
      if (!r.href || !r.ok) continue;
      const href = hrefPath(r.href, collectionUrl);
      if (href !== base && !Object.keys(r.props?.resourcetype ?? {}).includes('collection')) {
        out.set(href, text(r.props?.getetag));
      }
    }
    return out;
  }

  /** An href (a path) on the server of the home set, which discovery may have found elsewhere than the URL given. */
  private urlOf(href: string): string {
    return new URL(href.split('/').map(encodeURIComponent).join('/'), this.homeUrl ?? this.service.url).href;
  }

  /** An object as the server serves it, byte for byte; null when it is gone (404). */
  async get(href: string): Promise<DavObject | null> {
    const res = await this.fetch(this.urlOf(href));
    if (res.status === 404 || res.status === 410) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) {
      await res.body?.cancel();
      this.fail(`GET ${href}`, res);
    }
    return {
      body: Buffer.from(await res.arrayBuffer()),
      etag: res.headers.get('etag'),
      contentType: res.headers.get('content-type') ?? 'application/octet-stream',
    };
  }

  /**
   * Objects of a collection read in one calendar-multiget / addressbook-multiget REPORT (RFC 4791 7.9, RFC 6352
   * 8.7), by href path: an object, or null when the server says it is gone (404). An href the answer leaves out is
   * not in the map (the caller reads it alone). Null when the server does not take the REPORT (4xx).
   *
   * The body is the calendar-data / address-data text as served, less the whitespace around it that tsdav's XML
   * reading trims: the line break that ends the last content line (RFC 5545 3.1, RFC 6350 3.2) is put back.
   */
  async getMany(collectionUrl: string, hrefs: string[]): Promise<Map<string, DavObject | null> | null> {
    const calendar = this.service.kind === 'caldav';
    const responses = await davRequest({
      url: collectionUrl,
      init: {
        method: 'REPORT',
        headers: { depth: '1' },
        namespace: calendar ? 'c' : 'card',
        body: {
          [calendar ? 'calendar-multiget' : 'addressbook-multiget']: {
            _attributes: getDAVAttribute([DAVNamespace.DAV, calendar ? DAVNamespace.CALDAV : DAVNamespace.CARDDAV]),
            'd:prop': {
              'd:getetag': {},
              'd:getcontenttype': {},
              [calendar ? 'c:calendar-data' : 'card:address-data']: {},
            },
            'd:href': hrefs.map((href) => new URL(this.urlOf(href)).pathname),
          },
        },
      },
      fetch: this.fetch,
    });
    const first = responses[0];
    if (!(first?.raw as { multistatus?: unknown } | undefined)?.multistatus) {
      if (first && first.status >= 400 && first.status < 500 && first.status !== 429) return null;
      this.fail(`REPORT multiget ${new URL(collectionUrl).pathname}`, first ?? { status: 0 });
    }
    const out = new Map<string, DavObject | null>();
    for (const r of responses) {
      if (!r.href) continue;
      const href = hrefPath(r.href, collectionUrl);
      if (r.status === 404 || r.status === 410) out.set(href, null);
      const data = text(calendar ? r.props?.calendarData : r.props?.addressData);
      if (!r.ok || data === null) continue;
      const body = /\n$/.test(data) ? data : `${data}${data.includes('\r\n') ? '\r\n' : '\n'}`;
      out.set(href, {
        body: Buffer.from(body, 'utf8'),
        etag: text(r.props?.getetag),
        contentType: text(r.props?.getcontenttype) ?? (calendar ? 'text/calendar' : 'text/vcard'),
      });
    }
    return out;
  }

  /**
   * PUT with a precondition: `{ create: true }` sends If-None-Match: * (only if nothing is there), `{ etag }`
   * If-Match (only over that version). 4xx answers are returned (the caller decides: skipped, exists, changed);
   * 5xx and 429 throw DAV_SERVER_ERROR.
   */
  async put(href: string, object: DavObject, condition: { create: true } | { etag: string }): Promise<WriteResult> {
    const res = await this.fetch(this.urlOf(href), {
      method: 'PUT',
      body: object.body,
      headers: {
        'content-type': object.contentType,
        ...('create' in condition ? { 'if-none-match': '*' } : { 'if-match': condition.etag }),
      },
    });
    return this.writeResult(`PUT ${href}`, res);
  }

  /** DELETE, If-Match `etag` when known. */
  async remove(href: string, etag: string | null): Promise<WriteResult> {
    const res = await this.fetch(this.urlOf(href), {
      method: 'DELETE',
      headers: etag ? { 'if-match': etag } : {},
    });
    return this.writeResult(`DELETE ${href}`, res);
  }

  private async writeResult(what: string, res: Response): Promise<WriteResult> {
    const body = await res.text();
    if (res.ok) return { ok: true, etag: res.headers.get('etag') };
    if (res.status >= 500 || res.status === 429) this.fail(what, res);
    return { ok: false, status: res.status, reason: `${res.status} ${res.statusText} ${body}`.trim().slice(0, 300) };
  }
}
