import type { BatchEdit } from './batch-messages';
import { isEmailAddress, MAX_RECIPIENTS, MIN_REPORT_INTERVAL_MS } from './batch-reports';

export type ParsedEdit = { ok: true; edit: BatchEdit } | { ok: false; reason: string };

const MAX_PATTERNS = 200;
const MAX_TEXT = 500;

/**
 * Checks an edit that reached the workflow without the API's validation (a signal sent from the Temporal Web UI):
 * known fields only, each of its type. A bad edit is refused as a whole, never half applied.
 */
export function parseEdit(raw: unknown): ParsedEdit {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    return { ok: false, reason: 'the edit must be a JSON object' };
  const edit: BatchEdit = {};
  for (const [key, value] of Object.entries(raw)) {
    switch (key) {
      case 'by':
        break;
      case 'startAfter':
      case 'completeAfter':
        if (value !== null && (typeof value !== 'string' || Number.isNaN(Date.parse(value)))) {
          return { ok: false, reason: `${key} must be an ISO 8601 time or null` };
        }
        edit[key] = value;
        break;
      case 'autoComplete':
      case 'deleteOnDestination':
      case 'skipReports':
      case 'skipCalendar':
      case 'skipContacts':
      case 'skipTasks':
        if (typeof value !== 'boolean') return { ok: false, reason: `${key} must be true or false` };
        edit[key] = value;
        break;
      case 'badItemLimit':
      case 'largeItemLimit':
      case 'largeItemMaxBytes':
        if (!Number.isSafeInteger(value) || (value as number) < 0) {
          return { ok: false, reason: `${key} must be a whole number, 0 or more` };
        }
        edit[key] = value as number;
        break;
      case 'sourceEndpointId':
      case 'destinationEndpointId':
        if (typeof value !== 'string' || !/^[0-9a-f-]{36}$/i.test(value))
          return { ok: false, reason: `${key} must be an endpoint id` };
        edit[key] = value;
        break;
      case 'folderInclude':
      case 'folderExclude':
        if (
          !Array.isArray(value) ||
          value.length > MAX_PATTERNS ||
          !value.every((p) => typeof p === 'string' && p.length > 0 && p.length <= MAX_TEXT)
        ) {
          return { ok: false, reason: `${key} must be a list of folder names or patterns` };
        }
        edit[key] = value as string[];
        break;
      case 'notificationEmails':
        if (!Array.isArray(value) || value.length > MAX_RECIPIENTS || !value.every(isEmailAddress)) {
          return { ok: false, reason: `${key} must be a list of at most ${MAX_RECIPIENTS} e-mail addresses` };
        }
        edit[key] = value as string[];
        break;
      case 'reportIntervalMs':
        if (!Number.isSafeInteger(value) || (value as number) < MIN_REPORT_INTERVAL_MS) {
          return { ok: false, reason: `${key} must be a whole number of milliseconds, at least a minute` };
        }
        edit[key] = value as number;
        break;
      default:
        return { ok: false, reason: `unknown setting '${key.slice(0, 40)}'` };
    }
  }
  return { ok: true, edit };
}

/** Who gave a command, as far as an unchecked input tells: a short string or the fallback. */
export function actorOf(raw: unknown, fallback: string): string {
  const by = typeof raw === 'object' && raw !== null ? (raw as { by?: unknown }).by : undefined;
  return typeof by === 'string' && by.trim() !== '' ? by.trim().slice(0, 200) : fallback;
}
