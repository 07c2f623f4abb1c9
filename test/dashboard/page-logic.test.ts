import { createInput, editInput, EMPTY_FORM, validateForm } from '../../dashboard/src/batches/batch-form-state';
import { maskCsvLine, splitCsvLine } from '../../dashboard/src/batches/mask-csv-line';
import {
  endpointInput,
  endpointPatch,
  EMPTY_ENDPOINT,
  limitsInEffect,
  validateEndpoint,
} from '../../dashboard/src/endpoints/endpoint-form-state';
import type { Endpoint } from '../../dashboard/src/api/types';
import { fromLocalInputWithOffset } from '../../dashboard/src/format';
import { parseRoute, routeHref, type Route } from '../../dashboard/src/hooks/routes';
import { rowCommands, setBody, setFormFrom } from '../../dashboard/src/report/mailbox-actions';

/** The dashboard's pure logic: what it sends, what it shows of a CSV line, and its routes. */

describe('CSV lines shown next to their problems', () => {
  const header = 'EmailAddress,UserName,Password';

  it('masks the password column named by the header, whatever its case or position', () => {
    expect(maskCsvLine('anna@example.com,anna,s3cret', header)).toBe('anna@example.com,anna,••••••');
    expect(maskCsvLine('s3cret,anna@example.com', 'PASSWORD,emailaddress')).toBe('••••••,anna@example.com');
    expect(maskCsvLine('a@b.c,a,pw,dest-pw', `${header},DestinationPassword`)).toBe('a@b.c,a,••••••,••••••');
  });

  it('masks quoted passwords that contain commas and quotes', () => {
    expect(splitCsvLine('a@b.c,"x, ""y""",z')).toEqual(['a@b.c', 'x, "y"', 'z']);
    expect(maskCsvLine('a@b.c,anna,"pa,ss""word"', header)).not.toContain('pa,ss');
  });

  it('leaves the header itself and files without a password column alone, and reads a BOM header', () => {
    expect(maskCsvLine(header, header)).toBe(header);
    expect(maskCsvLine('a@b.c,anna', 'EmailAddress,UserName')).toBe('a@b.c,anna');
    expect(maskCsvLine('a@b.c,anna,pw', `\uFEFF${header}`)).toBe('a@b.c,anna,••••••');
  });
});

describe('batch form', () => {
  it('sends only what changed on Edit, with cleared times as null', () => {
    const original = {
      ...EMPTY_FORM,
      name: 'Wave',
      sourceEndpointId: 's',
      destinationEndpointId: 'd',
      completeAfter: '2030-01-01T10:00',
    };
    expect(editInput(original, original)).toEqual({});
    expect(editInput({ ...original, completeAfter: '' }, original)).toEqual({ completeAfter: null });
    expect(editInput({ ...original, folderExclude: 'Junk\nTrash, Spam' }, original)).toEqual({
      folderExclude: ['Junk', 'Trash', 'Spam'],
    });
    expect(editInput({ ...original, badItemLimit: '25' }, original)).toEqual({ badItemLimit: 25 });
    expect(
      editInput({ ...original, notificationEmails: 'ops@contoso.com\nit@contoso.com', skipReports: true }, original),
    ).toEqual({ notificationEmails: ['ops@contoso.com', 'it@contoso.com'], skipReports: true });
  });

  it('sends the report settings on New and checks the addresses and the interval first', () => {
    const ready = { ...EMPTY_FORM, name: 'W', sourceEndpointId: 's', destinationEndpointId: 'd', csv: 'x' };
    expect(createInput({ ...ready, notificationEmails: 'ops@contoso.com, it@contoso.com' })).toMatchObject({
      notificationEmails: ['ops@contoso.com', 'it@contoso.com'],
      reportInterval: '24h',
    });
    expect(validateForm({ ...ready, notificationEmails: 'ops@contoso.com\nnobody' }, true)).toHaveProperty(
      'notificationEmails',
    );
    expect(validateForm({ ...ready, reportInterval: 'daily' }, true)).toHaveProperty('reportInterval');
  });

  it('asks for what is missing before calling the API', () => {
    expect(Object.keys(validateForm(EMPTY_FORM, true)).sort()).toEqual([
      'csv',
      'destinationEndpointId',
      'name',
      'sourceEndpointId',
    ]);
    const ready = { ...EMPTY_FORM, name: 'W', sourceEndpointId: 's', destinationEndpointId: 'd', csv: 'x' };
    expect(validateForm(ready, true)).toEqual({});
    expect(validateForm({ ...ready, badItemLimit: '-1' }, true)).toHaveProperty('badItemLimit');
    expect(
      validateForm({ ...ready, startAfter: '2030-01-02T00:00', completeAfter: '2030-01-01T00:00' }, true),
    ).toHaveProperty('completeAfter');
  });
});

describe('endpoint form', () => {
  it('keeps the stored admin password unless a new one is typed', () => {
    const original = { ...EMPTY_ENDPOINT, name: 'Src', host: 'imap.example.com', adminUser: 'admin' };
    expect(endpointPatch(original, original)).toEqual({});
    expect(endpointPatch({ ...original, adminPassword: 'new-pw' }, original)).toEqual({ adminPassword: 'new-pw' });
    expect(endpointPatch({ ...original, port: '143', security: 'starttls' }, original)).toEqual({
      port: 143,
      security: 'starttls',
    });
    expect(endpointPatch({ ...original, adminUser: '' }, original)).toEqual({ adminUser: null });
  });

  it('sends rate limits as overrides: a figure, none for no limit, empty for the default', () => {
    const original = { ...EMPTY_ENDPOINT, name: 'Gmail', host: 'imap.gmail.com' };
    const limits = { ...original.limits, 'upload.bytesPerSecond': '2000000', 'download.mailboxBytesPerDay': 'none' };
    expect(endpointPatch({ ...original, limits }, original)).toEqual({
      rateLimits: { upload: { bytesPerSecond: 2000000 }, download: { mailboxBytesPerDay: null } },
    });
    const gmail = {
      effectiveRateLimits: {
        download: { messagesPerSecond: 50, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: 2500000000 },
        upload: { messagesPerSecond: null, bytesPerSecond: null, bytesPerDay: null, mailboxBytesPerDay: null },
      },
    } as Endpoint;
    expect(limitsInEffect(gmail, 'download')).toBe('messages per second 50; bytes per day per mailbox 2500000000');
    expect(limitsInEffect(gmail, 'upload')).toBe('none');
    const bad = validateEndpoint({ ...original, limits: { ...original.limits, 'upload.bytesPerDay': '-5' } });
    expect(bad.limits).toMatch(/^Upload: bytes per day/);
  });

  it('sends a minting method its own secret field, and asks for what it needs', () => {
    const google = {
      ...EMPTY_ENDPOINT,
      name: 'Workspace',
      host: 'imap.gmail.com',
      authMethod: 'google-service-account' as const,
    };
    expect(validateEndpoint(google)).toEqual({ oauthSecret: "Upload the service account's key (JSON)." });
    expect(validateEndpoint(google, true)).toEqual({});
    expect(
      endpointInput({ ...google, oauthSecret: '{"type":"service_account"}', adminPassword: 'stale' }),
    ).toMatchObject({
      authMethod: 'google-service-account',
      serviceAccountKey: '{"type":"service_account"}',
    });
    expect(endpointInput({ ...google, oauthSecret: '{}' })).not.toHaveProperty('adminPassword');
    const ms = { ...google, authMethod: 'm365-client-credentials' as const };
    expect(Object.keys(validateEndpoint(ms)).sort()).toEqual(['clientId', 'oauthSecret', 'tenantId']);
    const saved = { ...ms, tenantId: 'contoso.com', clientId: 'app' };
    expect(endpointPatch({ ...saved, oauthSecret: 'new-secret' }, saved)).toEqual({ clientSecret: 'new-secret' });
    expect(endpointPatch(saved, saved)).toEqual({});
  });
});

describe('per-mailbox actions', () => {
  it('offers a row what the status table allows, in one order, and nothing for a status it does not know', () => {
    expect(rowCommands('Syncing', 'Syncing')).toEqual(['stop', 'remove', 'move', 'set']);
    expect(rowCommands('Syncing', 'Stopped')).toEqual(['start', 'resume', 'remove', 'move', 'set', 'verify']);
    expect(rowCommands('Stopping', 'Synced')).toEqual([]);
    expect(rowCommands('Completed', 'Completed')).toEqual(['remove', 'verify']);
    expect(rowCommands(undefined, 'Synced')).toEqual([]);
    expect(rowCommands('Syncing', 'Unheard-of')).toEqual([]);
  });

  it('sends StartAfter in the browser’s zone with its offset, naming the same instant', () => {
    const sent = fromLocalInputWithOffset('2026-12-24T09:30');
    expect(sent).toMatch(/^2026-12-24T09:30:00[+-]\d{2}:\d{2}$/);
    expect(new Date(sent!).getTime()).toBe(new Date('2026-12-24T09:30').getTime());
    expect(fromLocalInputWithOffset('')).toBeNull();
  });

  const none = {
    startAfter: null,
    badItemLimit: null,
    largeItemLimit: null,
    folderInclude: null,
    folderExclude: null,
    skipCalendar: null,
    skipContacts: null,
    skipTasks: null,
  };

  it('sends only the settings that changed, with null for the batch’s value', () => {
    const initial = setFormFrom({ ...none, badItemLimit: 5, folderExclude: ['Junk', 'Trash'] });
    expect(setBody(initial, initial)).toEqual({ body: {}, errors: {} });
    const respaced = { ...initial, folderExclude: { useBatch: false, value: 'Junk ,Trash' } };
    expect(setBody(initial, respaced).body).toEqual({});
    const changed = {
      ...initial,
      badItemLimit: { useBatch: true, value: '5' },
      largeItemLimit: { useBatch: false, value: '3' },
      folderInclude: { useBatch: false, value: 'INBOX, Projects/2026' },
    };
    expect(setBody(initial, changed)).toEqual({
      body: { badItemLimit: null, largeItemLimit: 3, folderInclude: ['INBOX', 'Projects/2026'] },
      errors: {},
    });
  });

  it('sends a mailbox’s own calendar, task and contact choices, and null to follow the batch again', () => {
    const initial = setFormFrom({ ...none, skipTasks: false });
    expect(setBody(initial, initial).body).toEqual({});
    const changed = {
      ...initial,
      skipCalendar: { useBatch: false, value: 'yes' },
      skipTasks: { useBatch: true, value: 'no' },
    };
    expect(setBody(initial, changed)).toEqual({ body: { skipCalendar: true, skipTasks: null }, errors: {} });
  });

  it('leaves a StartAfter alone unless it changes, and names what cannot be sent', () => {
    const initial = setFormFrom({ ...none, startAfter: '2026-12-24T09:30:45.000Z' });
    expect(setBody(initial, initial).body).toEqual({});
    const wrong = {
      ...initial,
      startAfter: { useBatch: false, value: '' },
      badItemLimit: { useBatch: false, value: '-1' },
      largeItemLimit: { useBatch: false, value: '1000001' },
    };
    expect(Object.keys(setBody(initial, wrong).errors).sort()).toEqual([
      'badItemLimit',
      'largeItemLimit',
      'startAfter',
    ]);
  });
});

describe('routes', () => {
  it.each<[Route]>([
    [{ page: 'batches' }],
    [{ page: 'batches', batchId: 'a b/c' }],
    [{ page: 'new-batch' }],
    [{ page: 'edit-batch', batchId: 'x' }],
    [{ page: 'report', batchId: 'x' }],
    [{ page: 'endpoints' }],
    [{ page: 'endpoints', endpointId: 'e' }],
  ])('%j survives a round trip through the location hash', (route) => {
    expect(parseRoute(routeHref(route))).toEqual(route);
  });

  it('sends unknown hashes to the batch list', () => {
    expect(parseRoute('#/nowhere')).toEqual({ page: 'batches' });
    expect(parseRoute('')).toEqual({ page: 'batches' });
  });
});
