import { rm } from 'node:fs/promises';

export default async function globalTeardown(): Promise<void> {
  await globalThis.__MAILFERRY_PG__?.stop();
  if (globalThis.__MAILFERRY_PG_DIR__) await rm(globalThis.__MAILFERRY_PG_DIR__, { recursive: true, force: true });
}
