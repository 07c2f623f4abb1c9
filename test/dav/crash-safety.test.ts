import { spawn } from 'node:child_process';
import path from 'node:path';
import ICAL from 'ical.js';
import { createDavSyncStore } from '../../db/dav-sync-store';
import { syncMailboxOverDav } from '../../dav/mailbox-sync';
import { createTestDatabase, type TestDatabase } from '../fixtures/database';
import { startRadicale, type RadicaleServer } from '../fixtures/radicale';
import { allDay, contact, weeklyWithExceptions } from './corpus';
import { DAV_DEFAULTS, davSide, insertDavMailbox } from './helpers';

const USER = 'carol';
const CHILD = path.join(__dirname, 'crash-child.ts');

describe('DAV crash safety: a worker killed with SIGKILL mid-copy', () => {
  let db: TestDatabase;
  let source: RadicaleServer;
  let destination: RadicaleServer;
  let mailboxId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    [source, destination] = await Promise.all([startRadicale(), startRadicale()]);
    await source.addUser(USER, 'src-pw');
    await destination.addUser(USER, 'dst-pw');
    mailboxId = await insertDavMailbox(db.pool, `${USER}@example.com`);
    await source.makeCalendar(USER, 'work', { displayName: 'Work' });
    await source.makeAddressBook(USER, 'contacts', { displayName: 'Contacts' });
    for (let i = 0; i < 60; i++) {
      const body = i % 10 === 0 ? weeklyWithExceptions(`w-${i}@example.com`) : allDay(`d-${i}@example.com`, `Day ${i}`);
      await source.put(USER, 'work', `event-${i}.ics`, body);
      await source.put(USER, 'contacts', `c-${i}.vcf`, contact(`c-${i}`, `Person${i} Example`));
    }
  });
  afterAll(async () => {
    await Promise.all([source?.close(), destination?.close()]);
    await db?.drop();
  });

  /** Runs the sync in a child process and kills it with SIGKILL after `afterSteps` progress reports. */
  function runAndKill(afterSteps: number): Promise<{ killed: boolean; output: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
        cwd: path.join(__dirname, '..', '..'),
        env: {
          ...process.env,
          MAILFERRY_CRASH_CONFIG: JSON.stringify({
            databaseUrl: db.url,
            mailboxId,
            user: USER,
            source: { url: source.url, password: 'src-pw' },
            destination: { url: destination.url, password: 'dst-pw' },
          }),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      let killed = false;
      child.stdout.on('data', (d: Buffer) => {
        output += d.toString();
        const steps = output.split('\n').filter((l) => l.startsWith('step ')).length;
        if (!killed && steps >= afterSteps) {
          killed = true;
          child.kill('SIGKILL');
        }
      });
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('exit', () => resolve({ killed, output }));
    });
  }

  it('finishes after kills wherever they land with every object exactly once', async () => {
    // The kill arrives while up to four PUTs are in flight, so some reach the destination unrecorded.
    for (const afterSteps of [3, 20, 9, 45, 30]) {
      const run = await runAndKill(afterSteps);
      expect({ killed: run.killed, output: run.output.includes('sync failed') ? run.output : '' }).toEqual({
        killed: true,
        output: '',
      });
    }
    const store = createDavSyncStore(db.pool, mailboxId);
    await syncMailboxOverDav(
      store,
      davSide(source, USER, 'src-pw', 'source'),
      davSide(destination, USER, 'dst-pw', 'destination'),
      DAV_DEFAULTS,
    );
    for (const collection of ['work', 'contacts']) {
      const [s, d] = await Promise.all([source.objects(USER, collection), destination.objects(USER, collection)]);
      expect(d).toEqual(s);
      const uids = [...d.values()].map((body) => {
        const root = new ICAL.Component(ICAL.parse(body) as unknown[]);
        return String((root.getFirstSubcomponent('vevent') ?? root).getFirstPropertyValue('uid'));
      });
      expect(new Set(uids).size).toBe(60);
    }
    expect(await store.totals()).toEqual({ calendarItems: 60, contacts: 60, skipped: 0 });
    expect(await destination.collections(USER)).toEqual(['contacts', 'work']);
  });
});
