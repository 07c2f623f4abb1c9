/**
 * What the API process's entry point needs:
 *
 *   const { key, source, keyFile } = await loadOrCreateSecretKey({ key: config.secretKey, keyFile: `${dataDir}/secret.key` });
 *   const secretBox = createSecretBox(key);
 *   await migrate(pool);
 *   const boot = await bootstrapAdminToken(pool, { dataDir });
 *   if (boot.created) logger.info('initial admin token written (cat it; it is shown nowhere else)', { file: boot.tokenFile });
 *   const app = createApp({ pool, temporal: client, secretBox, taskQueue, temporalUiUrl, searchAttributes: true,
 *                           logger: createLogger({ level }).child({ component: 'api' }),
 *                           testConnection: createImapConnectionTester() });
 *   const api = await startApiServer(deps, { port });   // or createApp(deps).listen(port); api.close() on SIGTERM
 */
export { createApp, apiRoutes, API_PREFIX } from './app';
export { startApiServer, type RunningApi } from './server';
export { startAuditRetention } from './audit-retention';
export type { ApiDeps, ConnectionTester, ConnectionTestResult, ConnectionTestSettings } from './deps';
export { bootstrapAdminToken, type BootstrapResult } from './bootstrap';
export { createImapConnectionTester } from './imap-tester';
export { loadOrCreateSecretKey, decodeSecretKey } from '../secrets/key-file';
