export default async function globalTeardown(): Promise<void> {
  await globalThis.__MAILFERRY_PG__?.stop();
}
