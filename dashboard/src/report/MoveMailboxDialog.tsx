import { useState } from 'react';
import type { MailboxRow } from '../api/types';
import { useSession } from '../auth/session-context';
import { ErrorMessage } from '../components/ErrorMessage';
import { Field } from '../components/Field';
import { FormDialog } from '../components/FormDialog';
import { Loading } from '../components/Loading';
import { usePolling } from '../hooks/use-polling';
import { CLOSED_STATUSES } from '../../../domain/batch-status';
import type { SendMailboxAction } from './mailbox-actions';

interface Props {
  batchId: string;
  mailbox: MailboxRow;
  onSend: SendMailboxAction;
  onClose(): void;
}

/**
 * Move…: the target batch, chosen from the batch list (not one that takes no mailboxes, `CLOSED_STATUSES`). The
 * API refuses one with other endpoints and says so.
 */
export function MoveMailboxDialog({ batchId, mailbox, onSend, onClose }: Props) {
  const { api } = useSession();
  const batches = usePolling(() => api.listBatches({ sort: 'name', order: 'asc', pageSize: 500 }), [api], {
    intervalMs: 0,
  });
  const targets = (batches.data?.items ?? []).filter((b) => b.id !== batchId && !CLOSED_STATUSES.includes(b.status));
  const [target, setTarget] = useState('');
  const chosen = targets.find((b) => b.id === target) ?? targets[0];

  return (
    <FormDialog
      titleId="move-title"
      title={`Move ${mailbox.emailAddress}`}
      submitLabel="Move"
      onClose={onClose}
      onSubmit={async () =>
        chosen
          ? onSend(
              { command: 'move', body: { targetBatch: chosen.id } },
              `Moved ${mailbox.emailAddress} to ${chosen.name}.`,
            )
          : 'There is no batch to move this mailbox to.'
      }
    >
      <ErrorMessage error={batches.error} title="Batches" onRetry={() => void batches.reload()} />
      {batches.loading && <Loading what="batches" />}
      {batches.data && (
        <Field
          id="move-target"
          label="Target batch"
          hint="Only a batch with the same source and destination can take it. Its checkpoints go with it, so nothing is copied twice."
        >
          <select
            id="move-target"
            aria-describedby="move-target-hint"
            value={chosen?.id ?? ''}
            onChange={(event) => setTarget(event.target.value)}
          >
            {targets.length === 0 && <option value="">No other open batch</option>}
            {targets.map((b) => (
              <option key={b.id} value={b.id}>
                {b.name} ({b.statusLabel})
              </option>
            ))}
          </select>
        </Field>
      )}
    </FormDialog>
  );
}
