import type { MailboxCommand, MailboxRow } from '../api/types';
import { ACTION_LABELS } from './mailbox-actions';

interface Props {
  row: MailboxRow;
  /** The commands the status table allows this row now; the others are not shown at all. */
  commands: readonly MailboxCommand[];
  /** While a command runs, so one click cannot be sent twice. */
  busy: boolean;
  onChoose(command: MailboxCommand): void;
}

/** A row's command buttons; each button's name ends with the address, so a screen reader knows which row. */
export function MailboxActions({ row, commands, busy, onChoose }: Props) {
  if (commands.length === 0) return <span className="muted small">None now</span>;
  return (
    <div className="row-actions">
      {commands.map((command) => (
        <button
          key={command}
          type="button"
          className={command === 'remove' ? 'danger-outline' : undefined}
          disabled={busy}
          onClick={() => onChoose(command)}
        >
          {ACTION_LABELS[command]}
          <span className="visually-hidden"> {row.emailAddress}</span>
        </button>
      ))}
    </div>
  );
}
