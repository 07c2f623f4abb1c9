import ICAL from 'ical.js';
import type { DavItemKind } from './sync-store';

/** What an object is and what it is called, read with ical.js (the body itself is copied untouched). */
export interface ItemInfo {
  kind: DavItemKind;
  /** SUMMARY of the first event, task or journal; FN of a contact or group. */
  summary: string | null;
}

const CALENDAR_KINDS: Record<string, DavItemKind> = { vevent: 'event', vtodo: 'task', vjournal: 'journal' };

/**
 * Reads an iCalendar or vCard body. A body ical.js cannot parse is still copied as it is (the destination
 * decides); it is classified by the collection it is in.
 */
export function itemInfo(body: Buffer, collection: 'calendar' | 'addressbook'): ItemInfo {
  const fallback: ItemInfo = { kind: collection === 'calendar' ? 'event' : 'contact', summary: null };
  let root: ICAL.Component;
  try {
    root = new ICAL.Component(ICAL.parse(body.toString('utf8')) as unknown[]);
  } catch {
    return fallback;
  }
  if (root.name === 'vcard') {
    const kind = String(root.getFirstPropertyValue('kind') ?? root.getFirstPropertyValue('x-addressbookserver-kind'));
    const fn = root.getFirstPropertyValue('fn');
    return { kind: kind.toLowerCase() === 'group' ? 'group' : 'contact', summary: fn === null ? null : String(fn) };
  }
  const first = root.getAllSubcomponents().find((c) => c.name in CALENDAR_KINDS);
  if (!first) return fallback;
  const summary = first.getFirstPropertyValue('summary');
  return { kind: CALENDAR_KINDS[first.name] ?? 'event', summary: summary === null ? null : String(summary) };
}
