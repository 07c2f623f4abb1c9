import { RUNNING_STATUSES, type BatchStatus } from '../../../domain/batch-status';
import type { Endpoint } from '../api/types';

/** Batches using the endpoint that run now; while there are any, the endpoint cannot be edited or deleted. */
export function runningBatches(endpoint: Endpoint): { id: string; name: string; status: string }[] {
  return (endpoint.batches ?? []).filter((batch) => RUNNING_STATUSES.includes(batch.status as BatchStatus));
}

export function blockedReason(endpoint: Endpoint): string | undefined {
  const running = runningBatches(endpoint);
  if (running.length === 0) return undefined;
  const names = running.map((batch) => `${batch.name} (${batch.status})`).join(', ');
  return `This endpoint cannot be edited or deleted while ${running.length === 1 ? 'a batch that uses it runs' : 'batches that use it run'}: ${names}. Stop or wait for ${running.length === 1 ? 'it' : 'them'} first.`;
}
