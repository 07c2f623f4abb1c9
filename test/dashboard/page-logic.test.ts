import { createInput, editInput, EMPTY_FORM, validateForm } from '../../dashboard/src/batches/batch-form-state';
import { maskCsvLine, splitCsvLine } from '../../dashboard/src/batches/mask-csv-line';
import { endpointPatch, EMPTY_ENDPOINT } from '../../dashboard/src/endpoints/endpoint-form-state';
import { parseRoute, routeHref, type Route } from '../../dashboard/src/hooks/routes';

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
