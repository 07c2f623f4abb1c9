/**
 * Deterministic calendar and contact corpus for the DAV benchmark (bench/dav-bench.ts): the same seed gives the
 * same objects, byte for byte, CRLF line endings as RFC 5545 and RFC 6350 want them.
 *
 * Events, spread over two calendars (Work 70%, Home 30%): 10% weekly recurring with an exception (a moved
 * occurrence, RECURRENCE-ID in the same resource) and an EXDATE; 15% all-day; the rest timed, half of them in
 * Europe/Berlin or America/New_York (with their VTIMEZONE), half in UTC; about a third with an organizer and 1–5
 * attendees, a quarter with an alarm. Contacts in one address book: name, e-mail, phone, address, organization,
 * birthday, a note; every 20th with a 4 KB photo; every 100th is a group of 5–20 of the others.
 */
import { mulberry32 } from './imap-corpus';
import { BERLIN } from '../test/dav/corpus';

export interface CorpusItem {
  /** The collection's name (last path segment). */
  collection: string;
  uid: string;
  /** Components inside VCALENDAR (events), or the whole VCARD (contacts), as lines. */
  lines: string[];
  /** Time zones (TZID) the event uses. */
  tzids: string[];
}

export const CALENDARS = [
  { name: 'work', displayName: 'Work', color: '#3366ffff', share: 0.7 },
  { name: 'home', displayName: 'Home', color: '#33cc66ff', share: 0.3 },
];
export const ADDRESS_BOOK = { name: 'contacts', displayName: 'Contacts' };

const TIMEZONES: Record<string, string[]> = {
  'Europe/Berlin': BERLIN,
  'America/New_York': [
    'BEGIN:VTIMEZONE',
    'TZID:America/New_York',
    'BEGIN:DAYLIGHT',
    'TZOFFSETFROM:-0500',
    'TZOFFSETTO:-0400',
    'TZNAME:EDT',
    'DTSTART:19700308T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU',
    'END:DAYLIGHT',
    'BEGIN:STANDARD',
    'TZOFFSETFROM:-0400',
    'TZOFFSETTO:-0500',
    'TZNAME:EST',
    'DTSTART:19701101T020000',
    'RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU',
    'END:STANDARD',
    'END:VTIMEZONE',
  ],
};

const WORDS =
  'budget review planning sync standup launch retro design offsite lunch dentist training audit roadmap customer interview board demo hiring onboarding'.split(
    ' ',
  );
const GIVEN =
  'Ada Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Karl Lena Mallory Nina Oscar Peggy Quinn Rupert Sybil Trent'.split(
    ' ',
  );
const FAMILY =
  'Archer Baker Carter Dyer Evans Fisher Gardner Hunter Ingram Jones Keller Lambert Miller Novak Olsen Parker'.split(
    ' ',
  );

const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
/** RFC 5545 / 6350 folding: lines of at most 75 octets, continued with a space. */
const fold = (line: string) => line.match(/.{1,74}/g)?.join('\r\n ') ?? line;
const pad = (n: number) => String(n).padStart(2, '0');
/** A local date-time (YYYYMMDDTHHMMSS) from a UTC instant's fields. */
const stamp = (d: Date) =>
  `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}00`;
const day = (d: Date) => stamp(d).slice(0, 8);

/** The events, in order. */
export function* generateEvents(count: number, seed = 20261201): Generator<CorpusItem> {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const start = Date.UTC(2024, 0, 1, 8);
  for (let i = 0; i < count; i++) {
    let r = rand();
    const calendar = CALENDARS.find((c) => (r -= c.share) < 0) ?? CALENDARS[0]!;
    const uid = `bench-event-${i}@mailferry.example`;
    const at = new Date(start + Math.floor(rand() * 730) * 86_400_000 + Math.floor(rand() * 20) * 1_800_000);
    const summary = `${pick(WORDS)} ${pick(WORDS)} #${i}`;
    const kind = rand();
    const tz = kind < 0.1 || rand() < 0.5 ? pick(Object.keys(TIMEZONES)) : null;
    const when = (d: Date, prop: string) => (tz ? `${prop};TZID=${tz}:${stamp(d)}` : `${prop}:${stamp(d)}Z`);
    const end = new Date(at.getTime() + (1 + Math.floor(rand() * 4)) * 1_800_000);
    const people: string[] = [];
    if (rand() < 0.35) {
      people.push(`ORGANIZER;CN=${pick(GIVEN)} ${pick(FAMILY)}:mailto:organizer${i % 50}@example.com`);
      const n = 1 + Math.floor(rand() * 5);
      for (let a = 0; a < n; a++) {
        const who = `${pick(GIVEN)} ${pick(FAMILY)}`;
        const status = pick(['ACCEPTED', 'TENTATIVE', 'NEEDS-ACTION', 'DECLINED']);
        people.push(
          fold(
            `ATTENDEE;CN=${who};ROLE=REQ-PARTICIPANT;PARTSTAT=${status};RSVP=TRUE:mailto:${who.replace(' ', '.').toLowerCase()}@example.com`,
          ),
        );
      }
    }
    const alarm =
      rand() < 0.25
        ? [
            'BEGIN:VALARM',
            'ACTION:DISPLAY',
            `DESCRIPTION:${summary}`,
            `TRIGGER:-PT${pick([5, 10, 15, 30])}M`,
            'END:VALARM',
          ]
        : [];
    const common = [`UID:${uid}`, 'DTSTAMP:20240101T090000Z', `SUMMARY:${summary}`];
    let lines: string[];
    if (kind < 0.1) {
      // Weekly for 10–30 weeks, one occurrence moved by two hours and one cancelled.
      const weeks = 10 + Math.floor(rand() * 21);
      const moved = new Date(at.getTime() + 7 * 86_400_000);
      const cancelled = new Date(at.getTime() + 14 * 86_400_000);
      lines = [
        'BEGIN:VEVENT',
        ...common,
        when(at, 'DTSTART'),
        when(end, 'DTEND'),
        `RRULE:FREQ=WEEKLY;COUNT=${weeks}`,
        when(cancelled, 'EXDATE'),
        ...people,
        ...alarm,
        'END:VEVENT',
        'BEGIN:VEVENT',
        `UID:${uid}`,
        'DTSTAMP:20240101T090000Z',
        when(moved, 'RECURRENCE-ID'),
        when(new Date(moved.getTime() + 7_200_000), 'DTSTART'),
        when(new Date(end.getTime() + 7 * 86_400_000 + 7_200_000), 'DTEND'),
        `SUMMARY:${summary} (moved)`,
        ...people,
        'END:VEVENT',
      ];
    } else if (kind >= 0.1 && kind < 0.25) {
      lines = [
        'BEGIN:VEVENT',
        ...common,
        `DTSTART;VALUE=DATE:${day(at)}`,
        `DTEND;VALUE=DATE:${day(new Date(at.getTime() + 86_400_000))}`,
        'TRANSP:TRANSPARENT',
        ...alarm,
        'END:VEVENT',
      ];
    } else {
      lines = [
        'BEGIN:VEVENT',
        ...common,
        when(at, 'DTSTART'),
        when(end, 'DTEND'),
        `LOCATION:Room ${1 + (i % 40)}`,
        ...(rand() < 0.3 ? [`DESCRIPTION:Notes for ${summary}\\nbring the numbers`] : []),
        ...people,
        ...alarm,
        'END:VEVENT',
      ];
    }
    const allDay = kind >= 0.1 && kind < 0.25;
    yield { collection: calendar.name, uid, lines, tzids: tz && !allDay ? [tz] : [] };
  }
}

/** The contacts and groups, in order. */
export function* generateContacts(count: number, seed = 20261202): Generator<CorpusItem> {
  const rand = mulberry32(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
  const photo = (i: number) =>
    Buffer.from(Array.from({ length: 4096 }, (_, k) => (k * 31 + i) % 256)).toString('base64');
  for (let i = 0; i < count; i++) {
    const uid = `bench-contact-${i}`;
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    let lines: string[];
    if (i % 100 === 99) {
      const members = Array.from({ length: 5 + Math.floor(rand() * 16) }, () => Math.floor(rand() * i));
      lines = [
        'BEGIN:VCARD',
        'VERSION:3.0',
        `UID:${uid}`,
        `FN:Group ${i}`,
        `N:Group ${i};;;;`,
        'X-ADDRESSBOOKSERVER-KIND:group',
        ...[...new Set(members)].map((m) => `X-ADDRESSBOOKSERVER-MEMBER:urn:uuid:bench-contact-${m}`),
        'END:VCARD',
      ];
    } else {
      lines = [
        'BEGIN:VCARD',
        'VERSION:3.0',
        `UID:${uid}`,
        `FN:${given} ${family} ${i}`,
        `N:${family};${given};;;`,
        `EMAIL;TYPE=INTERNET,WORK:${given.toLowerCase()}.${family.toLowerCase()}${i}@example.com`,
        `TEL;TYPE=CELL:+49 170 ${String(1_000_000 + Math.floor(rand() * 8_999_999))}`,
        `ADR;TYPE=WORK:;;Hauptstr. ${1 + (i % 200)};Berlin;;10115;Germany`,
        `ORG:Example ${pick(FAMILY)} GmbH;Sales`,
        `BDAY:19${60 + Math.floor(rand() * 40)}-${pad(1 + Math.floor(rand() * 12))}-${pad(1 + Math.floor(rand() * 28))}`,
        ...(rand() < 0.3 ? ['NOTE:Met at the fair\\, 2019'] : []),
        ...(i % 20 === 0 ? [fold(`PHOTO;ENCODING=b;TYPE=JPEG:${photo(i)}`)] : []),
        'END:VCARD',
      ];
    }
    yield { collection: ADDRESS_BOOK.name, uid, lines, tzids: [] };
  }
}

const VCALENDAR_HEAD = ['BEGIN:VCALENDAR', 'VERSION:2.0', 'PRODID:-//mailferry//bench//EN'];

/**
 * A whole calendar in one VCALENDAR (every time zone once), or a whole address book as concatenated vCards: what a
 * PUT on the collection's URL uploads in one request (Radicale stores one resource per UID), to seed the source fast.
 */
export function collectionBody(items: CorpusItem[], kind: 'calendar' | 'addressbook'): string {
  if (kind === 'addressbook') return crlf(items.flatMap((i) => i.lines));
  const tzids = [...new Set(items.flatMap((i) => i.tzids))].sort();
  return crlf([
    ...VCALENDAR_HEAD,
    ...tzids.flatMap((tz) => TIMEZONES[tz] ?? []),
    ...items.flatMap((i) => i.lines),
    'END:VCALENDAR',
  ]);
}
