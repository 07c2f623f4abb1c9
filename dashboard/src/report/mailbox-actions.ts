import type { MailboxAction, MailboxOverrides, SetMailboxInput } from '../api/types';
import { lines } from '../batches/batch-form-state';
import { fromLocalInputWithOffset, toLocalInput } from '../format';
import { MAILBOX_STATUSES, type BatchStatus, type MailboxStatus } from '../../../domain/batch-status';
import { allowedMailboxCommands, MAILBOX_COMMANDS, type MailboxCommand } from '../../../domain/mailbox-commands';

/** The per-row actions of View details: which a row offers, what they ask first, and what the Set form sends. */

/** A row's button label; Move and Set open a form, hence the ellipsis. */
export const ACTION_LABELS: Record<MailboxCommand, string> = {
  stop: 'Stop',
  start: 'Start',
  resume: 'Resume',
  remove: 'Remove',
  move: 'Move…',
  set: 'Set…',
  verify: 'Verify',
};

/** What a row's buttons choose: a command of the status table, or a new password (offered whatever the status). */
export type RowAction = MailboxCommand | 'set-password';

export const SET_PASSWORD_LABEL = 'Set password…';

/**
 * The commands a row offers now, in the table's order: the status table of `domain/mailbox-commands.ts`, from
 * the batch's status and the row's. Nothing before the batch is known or for a status the table does not know.
 */
export function rowCommands(batch: BatchStatus | undefined, mailbox: string): MailboxCommand[] {
  if (!batch || !(MAILBOX_STATUSES as readonly string[]).includes(mailbox)) return [];
  const allowed = allowedMailboxCommands(batch, mailbox as MailboxStatus);
  return MAILBOX_COMMANDS.filter((command) => allowed.includes(command));
}

/**
 * Sends a row's command, announcing `done` once accepted; resolves to the words of the API's refusal (for the
 * dialog to show), or undefined.
 */
export type SendMailboxAction = (action: MailboxAction, done: string) => Promise<string | undefined>;

export type ConfirmedCommand = Exclude<MailboxCommand, 'move' | 'set'>;

export function isConfirmed(action: RowAction): action is ConfirmedCommand {
  return action !== 'move' && action !== 'set' && action !== 'set-password';
}

/** What the confirmation of a command without a form asks, for a mailbox's address. */
export const CONFIRMATIONS: Record<
  ConfirmedCommand,
  { title: string; message: (email: string) => string; button: string; danger?: boolean }
> = {
  stop: {
    title: 'Stop this mailbox?',
    message: (e) =>
      `Stopping ${e} cancels its running sync; the rest of the batch goes on. Later passes skip it until it is started again.`,
    button: 'Stop',
  },
  start: {
    title: 'Start this mailbox?',
    message: (e) =>
      `Starting syncs ${e} now, beside any pass of its batch: a failed mailbox is retried, a synced one resynced.`,
    button: 'Start',
  },
  resume: {
    title: 'Resume this mailbox?',
    message: (e) => `Resuming syncs ${e} now from where it stopped; mail already copied is not copied again.`,
    button: 'Resume',
  },
  remove: {
    title: 'Remove this mailbox from the batch?',
    message: (e) =>
      `Removing ${e} deletes its record, checkpoints and skipped items from mailferry. Mail already copied stays on the destination. This cannot be undone.`,
    button: 'Remove',
    danger: true,
  },
  verify: {
    title: 'Verify this mailbox?',
    message: (e) =>
      `Verifying compares ${e} on the source and the destination, folder by folder, and grades it; neither server is changed.`,
    button: 'Verify',
  },
};

export const SET_FIELDS = [
  'startAfter',
  'badItemLimit',
  'largeItemLimit',
  'folderInclude',
  'folderExclude',
  'skipCalendar',
  'skipTasks',
  'skipContacts',
] as const;
export type SetField = (typeof SET_FIELDS)[number];

/** One setting of the Set form: its text, or the batch's value (sent as null). */
export interface SetChoice {
  useBatch: boolean;
  value: string;
}

export type SetForm = Record<SetField, SetChoice>;

const LIMIT_MAX = 1_000_000;

/** The form for a mailbox's current overrides; a null override shows as the batch's value. */
export function setFormFrom(overrides: MailboxOverrides): SetForm {
  const choice = (value: string | null): SetChoice => ({ useBatch: value === null, value: value ?? '' });
  const number = (n: number | null) => choice(n === null ? null : String(n));
  const list = (l: string[] | null) => choice(l === null ? null : l.join(', '));
  // The batch's value shows "copy" once unticked, so the choice is never blank.
  const yesNo = (b: boolean | null): SetChoice => ({ useBatch: b === null, value: b ? 'yes' : 'no' });
  return {
    startAfter: choice(overrides.startAfter === null ? null : toLocalInput(overrides.startAfter)),
    badItemLimit: number(overrides.badItemLimit),
    largeItemLimit: number(overrides.largeItemLimit),
    folderInclude: list(overrides.folderInclude),
    folderExclude: list(overrides.folderExclude),
    skipCalendar: yesNo(overrides.skipCalendar),
    skipTasks: yesNo(overrides.skipTasks),
    skipContacts: yesNo(overrides.skipContacts),
  };
}

type Parsed = { value: string | number | boolean | string[] | null } | { error: string };

function parse(field: SetField, choice: SetChoice): Parsed {
  if (choice.useBatch) return { value: null };
  const text = choice.value.trim();
  switch (field) {
    case 'startAfter': {
      const iso = fromLocalInputWithOffset(text);
      return iso ? { value: iso } : { error: 'Enter a date and time, or choose the batch’s value.' };
    }
    case 'badItemLimit':
    case 'largeItemLimit':
      return /^\d{1,7}$/.test(text) && Number(text) <= LIMIT_MAX
        ? { value: Number(text) }
        : { error: `Enter a whole number from 0 to ${LIMIT_MAX.toLocaleString('en')}.` };
    case 'folderInclude':
    case 'folderExclude':
      return { value: lines(text) };
    case 'skipCalendar':
    case 'skipTasks':
    case 'skipContacts':
      return text === 'yes' || text === 'no' ? { value: text === 'yes' } : { error: 'Choose leave out or copy.' };
  }
}

/**
 * The body of `POST /mailboxes/:id/set`: only the settings whose value differs from what the form started with,
 * null for "the batch's value". Comparing parsed values, not text, means a setting left alone is never sent
 * (a StartAfter shown to the minute, a list re-spaced).
 */
export function setBody(
  initial: SetForm,
  form: SetForm,
): { body: SetMailboxInput; errors: Partial<Record<SetField, string>> } {
  const body: Record<string, unknown> = {};
  const errors: Partial<Record<SetField, string>> = {};
  for (const field of SET_FIELDS) {
    const now = parse(field, form[field]);
    if ('error' in now) {
      errors[field] = now.error;
      continue;
    }
    const before = parse(field, initial[field]);
    if (!('value' in before) || JSON.stringify(before.value) !== JSON.stringify(now.value)) body[field] = now.value;
  }
  return { body: body as SetMailboxInput, errors };
}
