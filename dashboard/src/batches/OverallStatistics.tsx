import type { Statistics } from '../api/types';
import { formatCount } from '../format';

interface Props {
  statistics: Statistics | undefined;
}

/** The seed's "Status for all batches": mailbox counts across every current batch. */
export function OverallStatistics({ statistics }: Props) {
  const items: [string, number | undefined][] = [
    ['Total mailboxes', statistics?.totalMailboxes],
    ['Synced mailboxes', statistics?.syncedMailboxes],
    ['Finalized mailboxes', statistics?.finalizedMailboxes],
    ['Failed mailboxes', statistics?.failedMailboxes],
  ];
  return (
    <section className="overall" aria-labelledby="overall-title">
      <h2 id="overall-title" className="visually-hidden">
        Status for all batches
      </h2>
      <dl className="stat-cards">
        {items.map(([label, value]) => (
          <div key={label} className={`stat-card${label.startsWith('Failed') && value ? ' stat-bad' : ''}`}>
            <dt>{label}</dt>
            <dd data-testid={`overall-${label.split(' ')[0]!.toLowerCase()}`}>
              {statistics ? formatCount(value) : '…'}
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
