import type { BatchCommand } from '../api/types';
import type { CommandVerb } from '../api/client';

/** A button of the command bar that acts on the selected batch through `POST /batches/:id/<verb>`. */
export interface VerbCommand {
  command: BatchCommand;
  verb: CommandVerb;
  label: string;
  /** What the confirmation dialog asks; commands without it run at once. */
  confirm?: { title: string; message: (name: string) => string; button: string; danger?: boolean };
  done: (name: string) => string;
}

export const VERB_COMMANDS: readonly VerbCommand[] = [
  { command: 'start', verb: 'start', label: 'Start migration', done: (n) => `Start requested for ${n}.` },
  { command: 'stop', verb: 'stop', label: 'Stop migration', done: (n) => `Stop requested for ${n}.` },
  { command: 'resume', verb: 'resume', label: 'Resume migration', done: (n) => `Resume requested for ${n}.` },
  {
    command: 'complete',
    verb: 'complete',
    label: 'Complete migration',
    confirm: {
      title: 'Complete migration batch?',
      message: (n) =>
        `Completing "${n}" runs a final sync of every mailbox and then ends incremental synchronization. It cannot be undone.`,
      button: 'Complete',
    },
    done: (n) => `Complete requested for ${n}.`,
  },
  { command: 'syncNow', verb: 'sync-now', label: 'Sync now', done: (n) => `Incremental sync requested for ${n}.` },
  {
    command: 'verify',
    verb: 'verify',
    label: 'Verify',
    done: (n) => `Verification requested for ${n}: each mailbox's grade appears in View details.`,
  },
];

export const DELETE_CONFIRM = {
  title: 'Delete migration batch?',
  message: (name: string) =>
    `Deleting "${name}" removes the batch and every record of its mailboxes from mailferry. Mail already copied stays on the destination. This cannot be undone.`,
  button: 'Delete',
  danger: true,
};
