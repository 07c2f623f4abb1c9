import { useState } from 'react';
import { errorText } from '../api/api-error';
import type { BatchSummary } from '../api/types';
import { useSession } from '../auth/session-context';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { navigate } from '../hooks/use-route';
import { DELETE_CONFIRM, VERB_COMMANDS, type VerbCommand } from './commands';
import { commandErrorText } from './command-error';

interface Props {
  batch: BatchSummary | undefined;
  onRefresh(): void;
  refreshing: boolean;
  /** Called after a command the API accepted, with the words to announce. */
  onDone(message: string, removed?: boolean): void;
  onError(message: string): void;
}

type Pending = { kind: 'verb'; command: VerbCommand } | { kind: 'delete' };

/**
 * The seed's command bar. Which commands are enabled comes only from the selected batch's `allowedCommands`
 * (the API's table); with no batch selected only New and Refresh work. Viewers see no mutating commands.
 */
export function CommandBar({ batch, onRefresh, refreshing, onDone, onError }: Props) {
  const { api, canMutate } = useSession();
  const [pending, setPending] = useState<Pending | undefined>();
  const [busy, setBusy] = useState(false);
  const allowed = new Set(batch?.allowedCommands ?? []);

  async function run(action: Pending) {
    if (!batch) return;
    setPending(undefined);
    setBusy(true);
    try {
      if (action.kind === 'delete') {
        await api.deleteBatch(batch.id);
        onDone(`Delete requested for ${batch.name}.`, true);
      } else {
        await api.command(batch.id, action.command.verb);
        onDone(action.command.done(batch.name));
      }
    } catch (error) {
      onError(commandErrorText(error) ?? errorText(error));
    } finally {
      setBusy(false);
    }
  }

  function ask(action: Pending) {
    const needsConfirm = action.kind === 'delete' || action.command.confirm;
    if (needsConfirm) setPending(action);
    else void run(action);
  }

  const reason = (command: string) =>
    !batch
      ? 'Select a batch first'
      : allowed.has(command as never)
        ? undefined
        : `Not allowed while ${batch.statusLabel}`;

  const confirm =
    pending?.kind === 'delete' ? DELETE_CONFIRM : pending?.kind === 'verb' ? pending.command.confirm : undefined;

  return (
    <div className="command-bar" role="toolbar" aria-label="Batch commands">
      {canMutate && (
        <button type="button" className="primary" onClick={() => navigate({ page: 'new-batch' })}>
          New migration batch
        </button>
      )}
      {canMutate &&
        VERB_COMMANDS.map((command) => (
          <button
            key={command.command}
            type="button"
            disabled={busy || !batch || !allowed.has(command.command)}
            title={reason(command.command)}
            onClick={() => ask({ kind: 'verb', command })}
          >
            {command.label}
          </button>
        ))}
      {canMutate && (
        <button
          type="button"
          disabled={busy || !batch || !allowed.has('edit')}
          title={reason('edit')}
          onClick={() => batch && navigate({ page: 'edit-batch', batchId: batch.id })}
        >
          Edit batch
        </button>
      )}
      {canMutate && (
        <button
          type="button"
          className="danger-outline"
          disabled={busy || !batch || !allowed.has('remove')}
          title={reason('remove')}
          onClick={() => ask({ kind: 'delete' })}
        >
          Delete
        </button>
      )}
      <button type="button" onClick={onRefresh} disabled={refreshing} aria-label="Refresh">
        {refreshing ? 'Refreshing…' : 'Refresh'}
      </button>
      <ConfirmDialog
        open={Boolean(batch && confirm)}
        title={confirm?.title ?? ''}
        message={batch && confirm ? confirm.message(batch.name) : ''}
        confirmLabel={confirm?.button ?? 'OK'}
        danger={confirm?.danger}
        onCancel={() => setPending(undefined)}
        onConfirm={() => pending && void run(pending)}
      />
    </div>
  );
}
