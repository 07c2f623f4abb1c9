/**
 * The Dockerfile cannot be built here (no Docker engine), so what can be read from it is checked: the base image is
 * a pinned Node.js LTS, the runtime stage gets the compiled processes, the built dashboard and the production
 * dependencies and nothing else, the compose roles run files it holds, and every npm package the compiled processes
 * require is a production dependency. `npm run bench:image` assembles and starts that file set.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';
import { load } from 'js-yaml';
import { copies, readDockerfile, runCommands, workdir } from '../../bench/dockerfile';

const ROOT = path.resolve(__dirname, '..', '..');
const dockerfile = readDockerfile();
const runtime = dockerfile.stage('runtime');
const runtimeCopies = copies(runtime);
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

/** The files and folders the runtime stage copies in, relative to its WORKDIR. */
function runtimePaths(): string[] {
  const dir = workdir(runtime);
  return runtimeCopies.flatMap((copy) => {
    const destination = path.posix.resolve(dir, copy.destination);
    const intoDir = copy.destination.endsWith('/') || copy.sources.length > 1;
    return copy.sources.map((source) =>
      path.posix.relative(dir, intoDir ? path.posix.join(destination, path.posix.basename(source)) : destination),
    );
  });
}

test('every stage builds on one pinned Node.js LTS release (24 or later), Debian bookworm slim', () => {
  const images = new Set(dockerfile.stages.map((s) => s.image));
  expect(images.size).toBe(1);
  const [image] = [...images];
  const version = /^node:(\d+)\.(\d+)\.(\d+)-bookworm-slim$/.exec(image!);
  expect({ image, pinned: version !== null }).toEqual({ image, pinned: true });
  const major = Number(version![1]);
  // Even majors are the LTS lines.
  expect({ major, lts: major >= 24 && major % 2 === 0 }).toEqual({ major, lts: true });
});

test('the runtime stage copies the compiled processes, the dashboard and the production dependencies only', () => {
  const fromContext = runtimeCopies.filter((c) => !c.from).flatMap((c) => c.sources);
  expect(fromContext).toEqual(['package.json']);
  const fromDeps = runtimeCopies.filter((c) => c.from === 'production-deps').flatMap((c) => c.sources);
  expect(fromDeps).toEqual(['/app/node_modules']);
  const fromBuild = runtimeCopies.filter((c) => c.from === 'build').flatMap((c) => c.sources);
  expect(fromBuild.filter((s) => !/^\/app\/(dist|dashboard\/dist)(\/|$)/.test(s) || s.endsWith('.ts'))).toEqual([]);
  expect(runtimeCopies.every((c) => ['build', 'production-deps', undefined].includes(c.from))).toBe(true);
  // What the processes read at run time: migrations beside db/migrate.ts's bundle, the prebuilt workflow bundle,
  // the dashboard at <root>/dashboard/dist (api/app.ts).
  expect(runtimePaths()).toEqual(
    expect.arrayContaining([
      'package.json',
      'node_modules',
      'dist/api.js',
      'dist/worker.js',
      'dist/migrations',
      'dist/workflows',
      'dashboard/dist',
    ]),
  );
});

test('the production dependencies are installed from the lockfile without dev dependencies', () => {
  const install = runCommands(dockerfile.stage('production-deps')).find((c) => c.startsWith('npm ci'));
  expect(install).toMatch(/^npm ci .*--omit=dev\b/);
  const build = runCommands(dockerfile.stage('build'));
  expect(build).toContain('npm run build:dashboard && npm run build');
});

test('the compose roles and the default command run files the runtime stage holds', () => {
  const compose = load(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')) as {
    services: Record<string, { command?: string[] }>;
  };
  const held = runtimePaths();
  for (const role of ['api', 'worker']) expect(held).toContain(compose.services[role]!.command![0]);
  const cmd = runtime.instructions.find((i) => i.keyword === 'CMD')!.args;
  expect(held).toContain((JSON.parse(cmd) as string[])[0]);
});

test('every npm package the compiled processes require is a production dependency', async () => {
  // As scripts/build.sh compiles them: the project's modules bundled, the npm packages left to require().
  const result = await build({
    entryPoints: [path.join(ROOT, 'entry', 'api.ts'), path.join(ROOT, 'entry', 'worker.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    target: 'node20',
    outdir: path.join(ROOT, 'dist'),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const required = new Set<string>();
  for (const output of Object.values(result.metafile.outputs))
    for (const i of output.imports)
      if (i.external && !i.path.startsWith('node:')) {
        const parts = i.path.split('/');
        required.add(i.path.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
  expect(required.size).toBeGreaterThan(10);
  expect([...required].filter((name) => !(name in pkg.dependencies)).sort()).toEqual([]);
});
