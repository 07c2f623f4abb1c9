import type { BatchDetail, BatchEditInput, BatchInput } from '../api/types';
import { fromLocalInput, toLocalInput } from '../format';

/** What the New / Edit batch form holds, as the inputs hold it (strings for numbers and times). */
export interface BatchFormState {
  name: string;
  sourceEndpointId: string;
  destinationEndpointId: string;
  csv: string;
  csvFileName: string | undefined;
  startAfter: string;
  completeAfter: string;
  autoStart: boolean;
  autoComplete: boolean;
  badItemLimit: string;
  largeItemLimit: string;
  folderInclude: string;
  folderExclude: string;
  /** One address per line (or comma-separated). */
  notificationEmails: string;
  reportInterval: string;
  skipReports: boolean;
  skipCalendar: boolean;
  skipContacts: boolean;
  skipTasks: boolean;
}

/** What a batch may leave out of the calendars and contacts, with the form's labels (Exchange's names). */
export const SKIP_SETTINGS = [
  ['skipCalendar', 'Calendars (SkipCalendar)'],
  ['skipTasks', 'Tasks (SkipTasks)'],
  ['skipContacts', 'Contacts (SkipContacts)'],
] as const;

export const EMPTY_FORM: BatchFormState = {
  name: '',
  sourceEndpointId: '',
  destinationEndpointId: '',
  csv: '',
  csvFileName: undefined,
  startAfter: '',
  completeAfter: '',
  autoStart: false,
  autoComplete: false,
  badItemLimit: '10',
  largeItemLimit: '0',
  folderInclude: '',
  folderExclude: '',
  notificationEmails: '',
  reportInterval: '24h',
  skipReports: false,
  skipCalendar: false,
  skipContacts: false,
  skipTasks: false,
};

export function formFromBatch(batch: BatchDetail): BatchFormState {
  return {
    ...EMPTY_FORM,
    name: batch.name,
    sourceEndpointId: batch.sourceEndpoint?.id ?? '',
    destinationEndpointId: batch.destinationEndpoint?.id ?? '',
    startAfter: toLocalInput(batch.startAfter),
    completeAfter: toLocalInput(batch.completeAfter),
    autoStart: batch.autoStart ?? false,
    autoComplete: batch.autoComplete ?? false,
    badItemLimit: String(batch.badItemLimit ?? 10),
    largeItemLimit: String(batch.largeItemLimit ?? 0),
    folderInclude: (batch.folderInclude ?? []).join('\n'),
    folderExclude: (batch.folderExclude ?? []).join('\n'),
    notificationEmails: (batch.notificationEmails ?? []).join('\n'),
    reportInterval: batch.reportInterval ?? '24h',
    skipReports: batch.skipReports ?? false,
    skipCalendar: batch.skipCalendar ?? false,
    skipContacts: batch.skipContacts ?? false,
    skipTasks: batch.skipTasks ?? false,
  };
}

/** A list as typed (folders, addresses): one per line or comma-separated, blanks dropped. */
export function lines(text: string): string[] {
  return text
    .split(/\n|,/)
    .map((item) => item.trim())
    .filter(Boolean);
}

export type FieldErrors = Partial<Record<keyof BatchFormState, string>>;

/** Checks what the browser can check before asking the API; the API remains the judge. */
export function validateForm(state: BatchFormState, creating: boolean): FieldErrors {
  const errors: FieldErrors = {};
  if (creating && !state.name.trim()) errors.name = 'Enter a name for the batch.';
  if (!state.sourceEndpointId) errors.sourceEndpointId = 'Choose the source endpoint.';
  if (!state.destinationEndpointId) errors.destinationEndpointId = 'Choose the destination endpoint.';
  if (creating && !state.csv.trim()) errors.csv = 'Upload or paste the CSV of mailboxes.';
  for (const key of ['badItemLimit', 'largeItemLimit'] as const) {
    if (!/^\d+$/.test(state[key].trim())) errors[key] = 'Enter a whole number, 0 or more.';
  }
  const start = fromLocalInput(state.startAfter);
  const complete = fromLocalInput(state.completeAfter);
  if (start && complete && complete < start) errors.completeAfter = 'Complete after must not be before Start after.';
  const badAddress = lines(state.notificationEmails).find((a) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(a));
  if (badAddress !== undefined) errors.notificationEmails = `${badAddress} is not an e-mail address.`;
  if (!/^\d+(m|h|d)$/.test(state.reportInterval.trim()))
    errors.reportInterval = 'Enter a duration such as 24h, 7d or 90m.';
  return errors;
}

export function createInput(state: BatchFormState): BatchInput {
  const input: BatchInput = {
    name: state.name.trim(),
    sourceEndpointId: state.sourceEndpointId,
    destinationEndpointId: state.destinationEndpointId,
    csv: state.csv,
    autoStart: state.autoStart,
    autoComplete: state.autoComplete,
    badItemLimit: Number(state.badItemLimit),
    largeItemLimit: Number(state.largeItemLimit),
  };
  const startAfter = fromLocalInput(state.startAfter);
  const completeAfter = fromLocalInput(state.completeAfter);
  if (startAfter) input.startAfter = startAfter;
  if (completeAfter) input.completeAfter = completeAfter;
  const include = lines(state.folderInclude);
  const exclude = lines(state.folderExclude);
  if (include.length) input.folderInclude = include;
  if (exclude.length) input.folderExclude = exclude;
  const recipients = lines(state.notificationEmails);
  if (recipients.length) input.notificationEmails = recipients;
  input.reportInterval = state.reportInterval.trim();
  if (state.skipReports) input.skipReports = true;
  for (const [key] of SKIP_SETTINGS) if (state[key]) input[key] = true;
  return input;
}

/** The PATCH body: only what changed since the form was loaded. */
export function editInput(state: BatchFormState, original: BatchFormState): BatchEditInput {
  const input: BatchEditInput = {};
  if (state.sourceEndpointId !== original.sourceEndpointId) input.sourceEndpointId = state.sourceEndpointId;
  if (state.destinationEndpointId !== original.destinationEndpointId)
    input.destinationEndpointId = state.destinationEndpointId;
  if (state.startAfter !== original.startAfter) input.startAfter = fromLocalInput(state.startAfter);
  if (state.completeAfter !== original.completeAfter) input.completeAfter = fromLocalInput(state.completeAfter);
  if (state.autoComplete !== original.autoComplete) input.autoComplete = state.autoComplete;
  if (state.badItemLimit !== original.badItemLimit) input.badItemLimit = Number(state.badItemLimit);
  if (state.largeItemLimit !== original.largeItemLimit) input.largeItemLimit = Number(state.largeItemLimit);
  if (state.folderInclude !== original.folderInclude) input.folderInclude = lines(state.folderInclude);
  if (state.folderExclude !== original.folderExclude) input.folderExclude = lines(state.folderExclude);
  if (state.notificationEmails !== original.notificationEmails)
    input.notificationEmails = lines(state.notificationEmails);
  if (state.reportInterval !== original.reportInterval) input.reportInterval = state.reportInterval.trim();
  if (state.skipReports !== original.skipReports) input.skipReports = state.skipReports;
  for (const [key] of SKIP_SETTINGS) if (state[key] !== original[key]) input[key] = state[key];
  return input;
}
