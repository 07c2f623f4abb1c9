/**
 * Tests that bound how fast the product answers under a batch of real size: `npm test` runs them after the rest,
 * alone (JEST_ALONE=only), because a test file beside them on the same two cores is not what users run. Unset,
 * jest runs everything together.
 */
const ALONE = ['<rootDir>/test/e2e/real-size-batch.test.ts'];
const IGNORED = ['/node_modules/', '<rootDir>/dashboard/', '<rootDir>/.venv/', '<rootDir>/.data/'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: process.env.JEST_ALONE === 'only' ? ALONE : ['**/*.test.ts'],
  testPathIgnorePatterns: process.env.JEST_ALONE === 'exclude' ? [...IGNORED, ...ALONE] : IGNORED,
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.venv/'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs', ignoreDynamic: true } }],
  },
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
  testTimeout: 120000,
  maxWorkers: 2,
};
