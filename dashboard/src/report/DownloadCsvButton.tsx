import { useState } from 'react';
import { errorText } from '../api/api-error';
import { useSession } from '../auth/session-context';

interface Props {
  batchId: string;
  batchName: string;
  /** The report's current filter; the file holds the same users as the filtered list. */
  status?: string;
  search?: string;
}

/** Downloads the report as CSV. The API wants the bearer token, so the file is fetched and then saved. */
export function DownloadCsvButton({ batchId, batchName, status, search }: Props) {
  const { api } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();

  async function download() {
    setBusy(true);
    setError(undefined);
    try {
      const blob = await api.mailboxesCsv(batchId, { status: status || undefined, search: search || undefined });
      const url = URL.createObjectURL(blob);
      const link = document.createElement('a');
      link.href = url;
      link.download = `${batchName.replace(/[^\w.-]+/g, '_')}-users.csv`;
      document.body.append(link);
      link.click();
      link.remove();
      window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (caught) {
      setError(errorText(caught));
    } finally {
      setBusy(false);
    }
  }

  return (
    <>
      <button type="button" onClick={download} disabled={busy}>
        {busy ? 'Preparing CSV…' : status || search ? 'Download CSV (filtered users)' : 'Download CSV (all users)'}
      </button>
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </>
  );
}
