import ICAL from 'ical.js';
import { createDavSyncStore } from '../../db/dav-sync-store';
import { DavClient, hrefPath } from '../../dav/client';
import { DavSyncError } from '../../dav/errors';
import { syncMailboxOverDav, type DavSide, type DavSyncOptions } from '../../dav/mailbox-sync';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { freePort } from '../fixtures/ports';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { allDay, contact, seedMailbox, task, withAttachment } from './corpus';
import { DAV_DEFAULTS, davSide, insertDavMailbox } from './helpers';

describe('the DAV engine between two Radicale servers', () => {
  let db: TestDatabase;
  let source: RadicaleServer;
  let destination: RadicaleServer;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startRadicale(), startRadicale({ maxContentLength: 20_000 })]);
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** A user on both servers, seeded on the source, with its mailbox row. */
  async function mailbox(user: string) {
    await source.addUser(user, 'src-pw');
    await destination.addUser(user, 'dst-pw');
    const mailboxId = await insertDavMailbox(db.pool, `${user}@example.com`);
    const store = createDavSyncStore(db.pool, mailboxId);
    const sync = (options: Partial<DavSyncOptions> = {}) =>
      syncMailboxOverDav(
        store,
        davSide(source, user, 'src-pw', 'source'),
        davSide(destination, user, 'dst-pw', 'destination'),
        { ...DAV_DEFAULTS, ...options },
      );
    return { mailboxId, store, sync };
  }

  /** Every collection of a user on both sides: names, then each object's body as each server serves it. */
  async function expectSameObjects(user: string, collections: string[]) {
    expect(await destination.collections(user)).toEqual(collections);
    for (const c of collections) {
      const [s, d] = await Promise.all([source.objects(user, c), destination.objects(user, c)]);
      expect([...d.keys()]).toEqual([...s.keys()]);
      for (const [name, body] of s) expect({ name, body: d.get(name) }).toEqual({ name, body });
    }
  }

  /** Counts each request of a side in `requests[name]`: the authorization is asked for before every one. */
  function countRequests<K extends string>(side: DavSide, requests: Record<K, number>, name: K): DavSide {
    for (const service of [side.caldav!, side.carddav!]) {
      const { authorization } = service;
      service.authorization = () => {
        requests[name]++;
        return authorization();
      };
    }
    return side;
  }

  it('copies every calendar and address book with its properties and every object byte for byte', async () => {
    const { sync, store } = await mailbox('alice');
    const counts = await seedMailbox(source, 'alice');
    const summary = await sync();
    expect(summary).toMatchObject({
      collectionsTotal: 3,
      collectionsSynced: 3,
      calendarItemsCopied: counts.work! + counts.tasks!,
      contactsCopied: counts.contacts,
      itemsSkipped: 0,
    });
    await expectSameObjects('alice', ['contacts', 'tasks', 'work']);
    expect(await store.totals()).toEqual({ calendarItems: 10, contacts: 3, skipped: 0 });

    for (const c of ['work', 'tasks', 'contacts']) {
      expect(await destination.properties('alice', c)).toEqual(await source.properties('alice', c));
    }
    const work = await destination.properties('alice', 'work');
    expect(work).toMatchObject({
      displayname: 'Work',
      calendarDescription: 'Meetings and deadlines',
      calendarColor: '#3366ffff',
      supportedCalendarComponentSet: { comp: { _attributes: { name: 'VEVENT' } } },
    });
    expect(String(work.calendarTimezone)).toContain('TZID:Europe/Berlin');

    // What the copies hold, read back from the destination property by property.
    const objects = await destination.objects('alice', 'work');
    const weekly = new ICAL.Component(ICAL.parse(objects.get('weekly.ics')!) as unknown[]);
    const [master, moved] = weekly.getAllSubcomponents('vevent');
    expect(master!.getFirstPropertyValue('rrule')?.toString()).toBe('FREQ=WEEKLY;COUNT=20;BYDAY=MO');
    expect(master!.getFirstProperty('exdate')?.getParameter('tzid')).toBe('Europe/Berlin');
    expect(master!.getAllProperties('attendee').map((p) => p.getParameter('partstat'))).toEqual([
      'ACCEPTED',
      'TENTATIVE',
    ]);
    expect(master!.getFirstPropertyValue('organizer')).toBe('mailto:alice@example.com');
    expect(master!.getFirstSubcomponent('valarm')?.getFirstPropertyValue('trigger')?.toString()).toBe('-PT15M');
    expect(moved!.getFirstPropertyValue('recurrence-id')?.toString()).toBe('2024-01-15T10:00:00');
    expect(weekly.getFirstSubcomponent('vtimezone')?.getFirstPropertyValue('tzid')).toBe('Europe/Berlin');
    const holiday = new ICAL.Component(ICAL.parse(objects.get('holiday.ics')!) as unknown[]);
    expect(holiday.getFirstSubcomponent('vevent')?.getFirstProperty('dtstart')?.type).toBe('date');
    const slides = new ICAL.Component(ICAL.parse(objects.get('slides.ics')!) as unknown[]);
    expect(slides.getFirstSubcomponent('vevent')?.getAllProperties('attach')).toHaveLength(2);
    const cards = await destination.objects('alice', 'contacts');
    const bob = new ICAL.Component(ICAL.parse(cards.get('bob.vcf')!) as unknown[]);
    expect(String(bob.getFirstPropertyValue('photo')).length).toBeGreaterThan(2000);
    expect(cards.get('team.vcf')).toContain('X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:carol-uid');
    const tasks = await destination.objects('alice', 'tasks');
    expect(tasks.get('report.ics')).toContain('BEGIN:VTODO');
  });

  it('copies edits, new objects and (with the delete option only) deletions in the next passes', async () => {
    const { sync } = await mailbox('bob');
    await seedMailbox(source, 'bob');
    await sync();

    await source.put('bob', 'work', 'holiday.ics', allDay('holiday-1@example.com', 'Company holiday (moved)'));
    await source.put('bob', 'work', 'new.ics', allDay('new-1@example.com', 'New one'));
    await source.put('bob', 'contacts', 'dave.vcf', contact('dave-uid', 'Dave Diver'));
    await source.remove('bob', 'work', 'e0.ics');
    await source.remove('bob', 'tasks', 'call.ics');
    await source.setCalendarProperties('bob', 'work', { displayName: 'Work (old team)', color: '#ff8800ff' });
    const second = await sync();
    expect(second).toMatchObject({ calendarItemsCopied: 2, contactsCopied: 1, deleted: 0 });
    const work = await destination.objects('bob', 'work');
    expect(work.get('holiday.ics')).toContain('SUMMARY:Company holiday (moved)');
    expect(work.get('new.ics')).toContain('SUMMARY:New one');
    expect(work.has('e0.ics')).toBe(true); // not mirrored: the batch does not delete
    expect((await destination.objects('bob', 'tasks')).has('call.ics')).toBe(true);
    expect(await destination.properties('bob', 'work')).toEqual(await source.properties('bob', 'work'));
    expect(await destination.properties('bob', 'work')).toMatchObject({
      displayname: 'Work (old team)',
      calendarColor: '#ff8800ff',
    });

    await source.remove('bob', 'work', 'e1.ics');
    const third = await sync({ deleteOnDestination: true });
    expect(third).toMatchObject({ calendarItemsCopied: 0, contactsCopied: 0, deleted: 1 });
    expect((await destination.objects('bob', 'work')).has('e1.ics')).toBe(false);

    // Unchanged since: nothing copied, nothing deleted.
    expect(await sync({ deleteOnDestination: true })).toMatchObject({
      calendarItemsCopied: 0,
      contactsCopied: 0,
      deleted: 0,
    });
  });

  it('compares ETags when the server refuses the stored sync token', async () => {
    const { sync, mailboxId } = await mailbox('erin');
    await seedMailbox(source, 'erin');
    await sync();
    await db.pool.query(
      `update dav_collections set sync_token = 'http://radicale.org/ns/sync/0000' where mailbox_id = $1`,
      [mailboxId],
    );
    await source.put('erin', 'tasks', 'report.ics', task('task-1@example.com', 'File the report today'));
    await source.remove('erin', 'work', 'e2.ics');
    expect(await sync({ deleteOnDestination: true })).toMatchObject({ calendarItemsCopied: 1, deleted: 1 });
    await expectSameObjects('erin', ['contacts', 'tasks', 'work']);
  });

  it('takes over objects a crashed attempt already wrote (412 on If-None-Match) and leaves each once', async () => {
    const { sync } = await mailbox('frank');
    await seedMailbox(source, 'frank');
    // As if an earlier attempt had made the collection and PUT two objects, then died before recording them.
    await destination.makeCalendar('frank', 'work', { displayName: 'Work' });
    const objects = await source.objects('frank', 'work');
    await destination.put('frank', 'work', 'weekly.ics', objects.get('weekly.ics')!);
    await destination.put('frank', 'work', 'e3.ics', allDay('day-3@example.com', 'Day 3 (stale)'));
    expect(await sync()).toMatchObject({ calendarItemsCopied: 10, contactsCopied: 3, itemsSkipped: 0 });
    await expectSameObjects('frank', ['contacts', 'tasks', 'work']);
    // The collection found there gets the source's properties (the components it was made with stay its own).
    expect(await destination.properties('frank', 'work')).toMatchObject({
      displayname: 'Work',
      calendarDescription: 'Meetings and deadlines',
      calendarColor: '#3366ffff',
    });
  });

  it('skips an object the destination refuses, with its calendar, summary and reason, within the BadItemLimit', async () => {
    const { sync, mailboxId } = await mailbox('grace');
    await seedMailbox(source, 'grace');
    await source.put('grace', 'work', 'huge.ics', withAttachment('huge-1@example.com', 40_000));
    const summary = await sync();
    expect(summary).toMatchObject({ calendarItemsCopied: 10, itemsSkipped: 1 });
    const { rows } = await db.pool.query(
      'select folder, subject, reason, kind, item_kind from skipped_items where mailbox_id = $1',
      [mailboxId],
    );
    expect(rows).toEqual([
      {
        folder: 'Work',
        subject: 'Review with slides',
        reason: expect.stringContaining('413'),
        kind: 'bad',
        item_kind: 'calendar',
      },
    ]);
    expect((await destination.objects('grace', 'work')).has('huge.ics')).toBe(false);
    // The same version is not tried (nor reported) again; a limit of 0 makes the next refusal fail the mailbox.
    expect(await sync()).toMatchObject({ itemsSkipped: 0 });
    await source.put('grace', 'work', 'huge2.ics', withAttachment('huge-2@example.com', 40_000));
    await expect(sync({ badItemLimit: 1 })).rejects.toMatchObject({ code: 'BAD_ITEM_LIMIT_EXCEEDED' });
  });

  it('leaves out what the skip settings say: calendars, tasks, contacts', async () => {
    const { sync, store } = await mailbox('heidi');
    await seedMailbox(source, 'heidi');
    // A calendar of events and tasks together, as many servers make them.
    await source.makeCalendar('heidi', 'mixed', { displayName: 'Mixed' });
    await source.put('heidi', 'mixed', 'event.ics', allDay('mixed-event@example.com'));
    await source.put('heidi', 'mixed', 'task.ics', task('mixed-task@example.com'));
    expect(await sync({ skipCalendar: true, skipContacts: true })).toMatchObject({
      calendarItemsCopied: 3,
      contactsCopied: 0,
    });
    expect(await destination.collections('heidi')).toEqual(['mixed', 'tasks']);
    expect([...(await destination.objects('heidi', 'mixed')).keys()]).toEqual(['task.ics']);
    expect(await sync({ skipTasks: true })).toMatchObject({ calendarItemsCopied: 9, contactsCopied: 3 });
    expect(await destination.collections('heidi')).toEqual(['contacts', 'mixed', 'tasks', 'work']);
    expect(await sync()).toMatchObject({ calendarItemsCopied: 0, contactsCopied: 0 });
    await expectSameObjects('heidi', ['contacts', 'mixed', 'tasks', 'work']);
    expect(await store.totals()).toEqual({ calendarItems: 12, contacts: 3, skipped: 0 });
  });

  it('stops at once when cancelled, and the next pass finishes the copy', async () => {
    const { sync } = await mailbox('judy');
    await seedMailbox(source, 'judy');
    const stop = new AbortController();
    const cancelled = sync({ signal: stop.signal, onProgress: (p) => p.calendarItemsCopied >= 2 && stop.abort() });
    await expect(cancelled).rejects.toMatchObject({ code: 'CANCELLED', retryClass: 'cancelled' });
    expect(await sync()).toMatchObject({ itemsSkipped: 0 });
    await expectSameObjects('judy', ['contacts', 'tasks', 'work']);
  });

  it('asks each side of a no-change pass for one listing per service, without discovery', async () => {
    const { sync, store } = await mailbox('nina');
    await seedMailbox(source, 'nina');
    await sync();
    const requests = { source: 0, destination: 0 };
    const counted = (side: DavSide, name: keyof typeof requests) => countRequests(side, requests, name);
    const again = await syncMailboxOverDav(
      store,
      counted(davSide(source, 'nina', 'src-pw', 'source'), 'source'),
      counted(davSide(destination, 'nina', 'dst-pw', 'destination'), 'destination'),
      DAV_DEFAULTS,
    );
    expect(again).toMatchObject({ collectionsSynced: 3, calendarItemsCopied: 0, contactsCopied: 0 });
    expect(requests).toEqual({ source: 2, destination: 2 });
  });

  it('reads the source in multiget REPORTs, each body byte for byte as its GET serves it', async () => {
    await source.addUser('pat', 'src-pw');
    const counts = await seedMailbox(source, 'pat');
    const side = davSide(source, 'pat', 'src-pw', 'source');
    for (const service of [side.caldav!, side.carddav!]) {
      const client = new DavClient(service);
      for (const collection of await client.collections()) {
        const hrefs = [...(await client.etags(collection.url)).keys()];
        const gone = `${hrefPath(collection.url, collection.url)}not-there.ics`;
        const read = await client.getMany(collection.url, [...hrefs, gone]);
        expect(read?.get(gone)).toBeNull();
        for (const href of hrefs) {
          const alone = (await client.get(href))!;
          const many = read?.get(href);
          expect({ href, body: many?.body.toString('utf8'), etag: many?.etag }).toEqual({
            href,
            body: alone.body.toString('utf8'),
            etag: alone.etag,
          });
          expect(many?.body.equals(alone.body)).toBe(true);
        }
      }
    }

    // A full pass reads the source per collection, not per object: discovery (3) and the home set's PROPFIND per
    // service, then one sync-collection and one multiget for each of the 3 collections (fewer than 50 objects each).
    const requests = { source: 0 };
    await destination.addUser('pat', 'dst-pw');
    const store = createDavSyncStore(db.pool, await insertDavMailbox(db.pool, 'pat@example.com'));
    const summary = await syncMailboxOverDav(
      store,
      countRequests(side, requests, 'source'),
      davSide(destination, 'pat', 'dst-pw', 'destination'),
      DAV_DEFAULTS,
    );
    const objects = counts.work! + counts.tasks! + counts.contacts!;
    expect(summary.calendarItemsCopied + summary.contactsCopied).toBe(objects);
    expect(requests.source).toBe(2 * (3 + 1) + 3 * 2);
    await expectSameObjects('pat', ['contacts', 'tasks', 'work']);
  });

  it('finds the home set by discovery when the one an earlier pass recorded no longer answers', async () => {
    await destination.addUser('olga', 'dst-pw');
    await destination.makeCalendar('olga', 'work', { displayName: 'Work' });
    const service = davSide(destination, 'olga', 'dst-pw', 'destination').caldav!;
    const client = new DavClient(service, undefined, `${destination.url}/gone-away/`);
    expect((await client.collections()).map((c) => c.displayName)).toEqual(['Work']);
    expect(await client.home()).toBe(`${destination.url}/olga/`);
  });

  it('fails clearly on a wrong password and on an unreachable service', async () => {
    const { store } = await mailbox('ivan');
    const wrong = syncMailboxOverDav(
      store,
      davSide(source, 'ivan', 'not-it', 'source'),
      davSide(destination, 'ivan', 'dst-pw', 'destination'),
      DAV_DEFAULTS,
    );
    await expect(wrong).rejects.toMatchObject({ code: 'DAV_AUTH_FAILED', side: 'source', retryClass: 'mailbox' });
    const nowhere = { url: `http://127.0.0.1:${await freePort()}` };
    const unreachable = syncMailboxOverDav(
      store,
      davSide(source, 'ivan', 'src-pw', 'source'),
      davSide(nowhere, 'ivan', 'dst-pw', 'destination'),
      DAV_DEFAULTS,
    );
    await expect(unreachable).rejects.toBeInstanceOf(DavSyncError);
    await expect(unreachable).rejects.toMatchObject({ code: 'DAV_UNREACHABLE', side: 'destination' });
    await expect(unreachable).rejects.toThrow(
      /destination DAV service unreachable at http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/,
    );
  });
});
