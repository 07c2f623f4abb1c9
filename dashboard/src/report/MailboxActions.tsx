import type { MailboxCommand, MailboxRow } from '../api/types';
import { ACTION_LABELS, SET_PASSWORD_LABEL, type RowAction } from './mailbox-actions';

interface Props {
  row: MailboxRow;
  /** The commands the status table allows this row now; the others are not shown at all. */
  commands: readonly MailboxCommand[];
  /** While a command runs, so one click cannot be sent twice. */
  busy: boolean;
  onChoose(action: RowAction): void;
}

/**
 * A row's command buttons, then Set password… (a changed password is set whatever the mailbox is doing); each
 * button's name ends with the address, so a screen reader knows which row.
 */
export function MailboxActions({ row, commands, busy, onChoose }: Props) {
  const buttons: Array<{ action: RowAction; label: string }> = [
    ...commands.map((command) => ({ action: command, label: ACTION_LABELS[command] })),
    { action: 'set-password', label: SET_PASSWORD_LABEL },
  ];
  return (
    <div className="row-actions">
      {buttons.map(({ action, label }) => (
        <button
          key={action}
          type="button"
          className={action === 'remove' ? 'danger-outline' : undefined}
          disabled={busy}
          onClick={() => onChoose(action)}
        >
          {label}
          <span className="visually-hidden"> {row.emailAddress}</span>
        </button>
      ))}
    </div>
  );
}
