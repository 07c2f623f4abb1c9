/**
 * The part of the repository's Dockerfile that `npm run bench:image` rebuilds outside Docker and
 * test/deploy/image.test.ts checks: its stages, their instructions and the runtime stage's COPY lines. Only the
 * syntax that Dockerfile uses: `ARG name=value`, `FROM image AS name`, line continuations, comments.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const DOCKERFILE = path.resolve(__dirname, '..', 'Dockerfile');

export interface Instruction {
  keyword: string;
  args: string;
}

export interface Stage {
  name: string;
  /** The base image, with the Dockerfile's ARG defaults put in. */
  image: string;
  instructions: Instruction[];
}

export interface Dockerfile {
  stages: Stage[];
  stage(name: string): Stage;
}

/** One COPY: from another stage (`from`) or from the build context, relative paths as written. */
export interface Copy {
  from?: string;
  sources: string[];
  destination: string;
}

export function readDockerfile(file = DOCKERFILE): Dockerfile {
  const lines = readFileSync(file, 'utf8')
    .replace(/\\\n\s*/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, image = '', name = ''] = /^(\S+)\s+AS\s+(\S+)$/i.exec(rest) ?? [];
      const resolved = image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? '');
      stages.push({ name, image: resolved, instructions: [] });
    } else if (upper === 'ARG' && stages.length === 0) {
      const [name = '', value = ''] = rest.split('=');
      args.set(name, value);
    } else {
      stages.at(-1)?.instructions.push({ keyword: upper, args: rest });
    }
  }
  return {
    stages,
    stage(name) {
      const found = stages.find((s) => s.name === name);
      if (!found) throw new Error(`the Dockerfile has no stage ${name}`);
      return found;
    },
  };
}

/** The stage's COPY instructions. */
export function copies(stage: Stage): Copy[] {
  return stage.instructions
    .filter((i) => i.keyword === 'COPY')
    .map((i) => {
      const words = i.args.split(/\s+/);
      const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
      const paths = words.filter((w) => !w.startsWith('--'));
      return { ...(from ? { from } : {}), sources: paths.slice(0, -1), destination: paths.at(-1)! };
    });
}

/** The stage's RUN commands, without their `--mount` options. */
export function runCommands(stage: Stage): string[] {
  return stage.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args.replace(/--mount=\S+\s*/g, '').trim());
}

/** The stage's WORKDIR (the last one). */
export function workdir(stage: Stage): string {
  const dir = stage.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)?.args;
  if (!dir) throw new Error(`stage ${stage.name} sets no WORKDIR`);
  return dir;
}
