import { useEffect } from 'react';
import { Header } from './components/Header';
import { useRoute } from './hooks/use-route';
import { BatchesPage } from './batches/BatchesPage';
import { BatchFormPage } from './batches/BatchFormPage';
import { MailboxReportPage } from './report/MailboxReportPage';
import { EndpointsPage } from './endpoints/EndpointsPage';
import { AuditPage } from './audit/AuditPage';
import { WorkerBanner } from './components/WorkerBanner';

const TITLES: Record<string, string> = {
  batches: 'Migration batches',
  'new-batch': 'New migration batch',
  'edit-batch': 'Edit migration batch',
  report: 'Migration users status report',
  endpoints: 'Migration endpoints',
  audit: 'Audit trail',
};

/** The signed-in page: header plus the screen the location hash names. */
export function Screens() {
  const route = useRoute();
  useEffect(() => {
    document.title = `${TITLES[route.page] ?? 'Dashboard'} · mailferry`;
  }, [route.page]);

  return (
    <>
      <button type="button" className="skip-link" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <Header route={route} />
      <WorkerBanner />
      <main id="main" tabIndex={-1}>
        {route.page === 'batches' && <BatchesPage selectedId={route.batchId} />}
        {route.page === 'new-batch' && <BatchFormPage />}
        {route.page === 'edit-batch' && <BatchFormPage batchId={route.batchId} />}
        {route.page === 'report' && <MailboxReportPage batchId={route.batchId} />}
        {route.page === 'endpoints' && <EndpointsPage selectedId={route.endpointId} />}
        {route.page === 'audit' && <AuditPage batch={route.batch} />}
      </main>
    </>
  );
}
