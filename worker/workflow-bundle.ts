/**
 * The workflow bundle, built ahead of time (`npm run build:workflows`, run by `npm start` and the Docker build)
 * instead of by webpack inside every worker at start: webpack's build took about 100 MB of the worker's peak
 * memory and two seconds of its start, and left part of it behind for the life of the process.
 *
 * The build writes `dist/workflows/bundle-<content hash>.js` and a manifest naming it together with the SHA-256
 * of every file webpack read for it (the workflow sources, `domain/`, the SDK's own modules). A worker uses the
 * bundle only while every one of those files is unchanged; otherwise it builds it again, in a child process so
 * that webpack never loads into the worker, and says so in its log. Where the workflow sources are absent (the
 * Docker image ships dist/ without them) nothing can change or rebuild the bundle, so only its own hash is checked.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { Logger } from '../observability/logger';

const ROOT = path.resolve(__dirname, '..');
export const WORKFLOW_BUNDLE_DIR = path.join(ROOT, 'dist', 'workflows');
const MANIFEST = path.join(WORKFLOW_BUNDLE_DIR, 'manifest.json');
const WORKFLOWS_ENTRY = path.join('workflows', 'index.ts');
/** The build's entry point: its source through tsx, or its compiled file beside this one's (scripts/build.sh). */
const BUILD_COMMAND =
  path.extname(__filename) === '.ts'
    ? ['--import', 'tsx', path.join(ROOT, 'entry', 'build-workflows.ts')]
    : [path.join(__dirname, 'build-workflows.js')];

/** What a build wrote: the bundle's file and the hash of each input, by path relative to the project. */
interface Manifest {
  bundle: string;
  inputs: Record<string, string>;
}

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const hasSources = (root: string) =>
  access(path.join(root, WORKFLOWS_ENTRY)).then(
    () => true,
    () => false,
  );

/**
 * The bundle's path when the manifest's inputs are all unchanged (or the sources are absent, see above); else why
 * it cannot be used. `root` is the project's folder, the one holding dist/.
 */
export async function freshWorkflowBundle(root = ROOT): Promise<{ codePath: string } | { stale: string }> {
  const bundleDir = path.join(root, 'dist', 'workflows');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(await readFile(path.join(bundleDir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return { stale: 'no workflow bundle has been built' };
  }
  if (await hasSources(root)) {
    for (const [file, hash] of Object.entries(manifest.inputs)) {
      const now = await readFile(path.join(root, file)).then(sha256, () => undefined);
      if (now !== hash) return { stale: `${file} changed since the workflow bundle was built` };
    }
  }
  const codePath = path.join(bundleDir, manifest.bundle);
  const present = await readFile(codePath).then(
    (code) => sha256(code).startsWith(manifest.bundle.replace(/^bundle-|\.js$/g, '')),
    () => false,
  );
  return present ? { codePath } : { stale: `${manifest.bundle} is missing or damaged` };
}

/**
 * Builds the bundle with webpack in this process and writes it with its manifest (each file first under a
 * temporary name, then renamed, so that a reader never sees half of one). Returns the bundle's path.
 */
export async function buildWorkflowBundle(): Promise<string> {
  const inputs = new Set<string>();
  const { code } = await bundleWorkflowCode({
    workflowsPath: path.join(ROOT, WORKFLOWS_ENTRY),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    webpackConfigHook: (config) => ({
      ...config,
      plugins: [
        ...(config.plugins ?? []),
        {
          apply(compiler) {
            compiler.hooks.afterEmit.tap('mailferry-bundle-inputs', (compilation) => {
              for (const file of compilation.fileDependencies) if (path.isAbsolute(file)) inputs.add(file);
            });
          },
        },
      ],
    }),
  });
  const hashes: Record<string, string> = {};
  for (const file of [...inputs].sort()) {
    const content = await readFile(file).catch(() => undefined); // a directory or a probed, absent file
    if (content) hashes[path.relative(ROOT, file)] = sha256(content);
  }
  const bundle = `bundle-${sha256(code).slice(0, 16)}.js`;
  await mkdir(WORKFLOW_BUNDLE_DIR, { recursive: true });
  const write = async (file: string, data: string) => {
    await writeFile(`${file}.tmp-${process.pid}`, data);
    await rename(`${file}.tmp-${process.pid}`, file);
  };
  await write(path.join(WORKFLOW_BUNDLE_DIR, bundle), code);
  await write(MANIFEST, JSON.stringify({ bundle, inputs: hashes } satisfies Manifest, null, 1));
  for (const old of await readdir(WORKFLOW_BUNDLE_DIR)) {
    if (/^bundle-[0-9a-f]+\.js$/.test(old) && old !== bundle) await rm(path.join(WORKFLOW_BUNDLE_DIR, old));
  }
  return path.join(WORKFLOW_BUNDLE_DIR, bundle);
}

/**
 * The prebuilt bundle for a worker: as built when it is fresh; otherwise built now by `npm run build:workflows`'s
 * entry in a child process, with a warning naming why.
 */
export async function loadWorkflowBundle(logger?: Pick<Logger, 'warn'>): Promise<{ codePath: string }> {
  const found = await freshWorkflowBundle();
  if ('codePath' in found) return found;
  if (!(await hasSources(ROOT))) {
    throw new Error(
      `the workflow bundle cannot be used (${found.stale}) and its sources are not here to build it again`,
    );
  }
  logger?.warn('building the workflow bundle now (npm run build:workflows builds it ahead of time)', {
    reason: found.stale,
  });
  try {
    await promisify(execFile)(process.execPath, BUILD_COMMAND, { cwd: ROOT });
  } catch (err) {
    const { stderr } = err as { stderr?: string };
    throw new Error(`cannot build the workflow bundle (npm run build:workflows): ${stderr?.trim() || String(err)}`, {
      cause: err,
    });
  }
  const built = await freshWorkflowBundle();
  if ('stale' in built) throw new Error(`the workflow bundle was built but cannot be used: ${built.stale}`);
  return built;
}
