/**
 * Calendar objects and contacts for the DAV engine's tests: one of each case the copy must keep (recurrences
 * with exceptions, all-day, time zones, attendees and organizer, alarms, attachments, tasks, contact photos,
 * groups), deterministic, CRLF line endings as RFC 5545 and RFC 6350 want them.
 */
import type { RadicaleServer } from '../fixtures/radicale';

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** Europe/Berlin's VTIMEZONE, as the tests and the DAV bench's corpus carry it. */
export const BERLIN = [
  'BEGIN:VTIMEZONE',
  'TZID:Europe/Berlin',
  'BEGIN:DAYLIGHT',
  'TZOFFSETFROM:+0100',
  'TZOFFSETTO:+0200',
  'TZNAME:CEST',
  'DTSTART:19700329T020000',
  'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU',
  'END:DAYLIGHT',
  'BEGIN:STANDARD',
  'TZOFFSETFROM:+0200',
  'TZOFFSETTO:+0100',
  'TZNAME:CET',
  'DTSTART:19701025T030000',
  'RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU',
  'END:STANDARD',
  'END:VTIMEZONE',
];

export const CALENDAR_TIMEZONE = crlf([
  'BEGIN:VCALENDAR',
  'VERSION:2.0',
  'PRODID:-//mailferry//test//EN',
  ...BERLIN,
  'END:VCALENDAR',
]);

const calendar = (...body: string[]) =>
  crlf(['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//mailferry//test//EN', ...body, 'END:VCALENDAR']);

/** A base64 blob of `size` bytes (an attachment, a photo). */
const blob = (size: number, seed: number) =>
  Buffer.from(Array.from({ length: size }, (_, i) => (i * 31 + seed) % 256)).toString('base64');

/** RFC 5545 folding: lines of at most 75 octets, continued with a space. */
const fold = (line: string) => line.match(/.{1,74}/g)?.join('\r\n ') ?? line;

export function weeklyWithExceptions(uid: string, summary = 'Weekly sync'): string {
  return calendar(
    ...BERLIN,
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T090000Z',
    'DTSTART;TZID=Europe/Berlin:20240108T100000',
    'DTEND;TZID=Europe/Berlin:20240108T110000',
    'RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=20',
    'EXDATE;TZID=Europe/Berlin:20240122T100000',
    `SUMMARY:${summary}`,
    'ORGANIZER;CN=Alice Example:mailto:alice@example.com',
    'ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;RSVP=TRUE:mailto:bob@example.com',
    'ATTENDEE;CN=Carol;ROLE=OPT-PARTICIPANT;PARTSTAT=TENTATIVE:mailto:carol@example.com',
    'BEGIN:VALARM',
    'ACTION:DISPLAY',
    'DESCRIPTION:Reminder',
    'TRIGGER:-PT15M',
    'END:VALARM',
    'END:VEVENT',
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T090000Z',
    'RECURRENCE-ID;TZID=Europe/Berlin:20240115T100000',
    'DTSTART;TZID=Europe/Berlin:20240115T140000',
    'DTEND;TZID=Europe/Berlin:20240115T150000',
    `SUMMARY:${summary} (moved)`,
    'ORGANIZER;CN=Alice Example:mailto:alice@example.com',
    'END:VEVENT',
  );
}

export function allDay(uid: string, summary = 'Company holiday'): string {
  return calendar(
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T090000Z',
    'DTSTART;VALUE=DATE:20240501',
    'DTEND;VALUE=DATE:20240502',
    `SUMMARY:${summary}`,
    'TRANSP:TRANSPARENT',
    'CATEGORIES:Holiday,Office',
    'END:VEVENT',
  );
}

export function withAttachment(uid: string, size = 1500): string {
  return calendar(
    'BEGIN:VEVENT',
    `UID:${uid}`,
    'DTSTAMP:20240101T090000Z',
    'DTSTART:20240301T120000Z',
    'DTEND:20240301T130000Z',
    'SUMMARY:Review with slides',
    'DESCRIPTION:Agenda:\\n1. numbers\\n2. plans',
    'LOCATION:Room 4\\, second floor',
    fold(`ATTACH;FMTTYPE=application/pdf;ENCODING=BASE64;VALUE=BINARY:${blob(size, 7)}`),
    'ATTACH:https://files.example.com/agenda.pdf',
    'END:VEVENT',
  );
}

export function task(uid: string, summary = 'File the report'): string {
  return calendar(
    'BEGIN:VTODO',
    `UID:${uid}`,
    'DTSTAMP:20240101T090000Z',
    'DUE;VALUE=DATE:20240315',
    `SUMMARY:${summary}`,
    'PRIORITY:1',
    'STATUS:NEEDS-ACTION',
    'PERCENT-COMPLETE:20',
    'END:VTODO',
  );
}

export function contact(uid: string, name: string, photoBytes = 0): string {
  const [given, family] = name.split(' ');
  return crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:${uid}`,
    `FN:${name}`,
    `N:${family ?? ''};${given ?? ''};;;`,
    'EMAIL;TYPE=INTERNET,WORK:' + `${(given ?? 'x').toLowerCase()}@example.com`,
    'TEL;TYPE=CELL:+49 170 1234567',
    'ADR;TYPE=WORK:;;Hauptstr. 1;Berlin;;10115;Germany',
    'ORG:Example GmbH;Sales',
    'BDAY:1980-02-29',
    'NOTE:Met at the fair\\, 2019',
    ...(photoBytes ? [fold(`PHOTO;ENCODING=b;TYPE=JPEG:${blob(photoBytes, 3)}`)] : []),
    'END:VCARD',
  ]);
}

export function group(uid: string, name: string, members: string[]): string {
  return crlf([
    'BEGIN:VCARD',
    'VERSION:3.0',
    `UID:${uid}`,
    `FN:${name}`,
    `N:${name};;;;`,
    'X-ADDRESSBOOKSERVER-KIND:group',
    ...members.map((m) => `X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:${m}`),
    'END:VCARD',
  ]);
}

/**
 * One user's calendars and address books on `server`: a Work calendar (events of every kind), a task list,
 * and an address book with contacts (one with a photo) and a group. Returns the object count per collection.
 */
export async function seedMailbox(server: RadicaleServer, user: string): Promise<Record<string, number>> {
  await server.makeCalendar(user, 'work', {
    displayName: 'Work',
    description: 'Meetings and deadlines',
    color: '#3366ffff',
    timezone: CALENDAR_TIMEZONE,
    components: ['VEVENT'],
  });
  await server.makeCalendar(user, 'tasks', { displayName: 'Tasks', components: ['VTODO'] });
  await server.makeAddressBook(user, 'contacts', { displayName: 'Contacts', description: 'Everyone' });
  await server.put(user, 'work', 'weekly.ics', weeklyWithExceptions('weekly-1@example.com'));
  await server.put(user, 'work', 'holiday.ics', allDay('holiday-1@example.com'));
  await server.put(user, 'work', 'slides.ics', withAttachment('slides-1@example.com'));
  for (let i = 0; i < 5; i++) await server.put(user, 'work', `e${i}.ics`, allDay(`day-${i}@example.com`, `Day ${i}`));
  await server.put(user, 'tasks', 'report.ics', task('task-1@example.com'));
  await server.put(user, 'tasks', 'call.ics', task('task-2@example.com', 'Call the bank'));
  await server.put(user, 'contacts', 'bob.vcf', contact('bob-uid', 'Bob Builder', 2000));
  await server.put(user, 'contacts', 'carol.vcf', contact('carol-uid', 'Carol Singer'));
  await server.put(user, 'contacts', 'team.vcf', group('team-uid', 'Team', ['bob-uid', 'carol-uid']));
  return { work: 8, tasks: 2, contacts: 3 };
}
