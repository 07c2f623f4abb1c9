import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram } from '../../cli/program';
import { runCli } from '../../cli/run';

/**
 * Every `mailferry` command line written in docs/cli.md, the README, docs/api.md and the --help examples parses
 * as written: no unknown command or option, no missing or invalid value (exit code 2). The API is a stub that
 * refuses everything (exit 1), so the check is the command line itself; test/api/cli.test.ts and
 * test/cli/watch.test.ts run the commands for real.
 */

const ROOT = path.resolve(__dirname, '../..');

/** The files the examples name, so that reading them is not what fails. */
const FILES: Record<string, string> = {
  'wave1.csv': 'EmailAddress,UserName,Password\nalice@contoso.com,alice,pw\n',
  'wave2.csv': 'EmailAddress,UserName,Password\nbob@contoso.com,bob,pw\n',
  'late-joiners.csv': 'EmailAddress,UserName,Password\ncarol@contoso.com,carol,pw\n',
  pw: 'secret\n',
  'new-pw': 'secret\n',
  'new-password.txt': 'secret\n',
  'pw.txt': 'secret\n',
  'key.json': '{"type":"service_account"}\n',
};

/** Shell words of one command, quotes removed; `$VAR` stays as written. */
function words(text: string): string[] {
  const out: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "'" || ch === '"') {
      // An unclosed quote (an apostrophe in prose) runs to the end, as the shell would read on.
      const found = text.indexOf(ch, i + 1);
      const end = found === -1 ? text.length : found;
      word += text.slice(i + 1, end);
      i = end;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) out.push(word);
      word = '';
      inWord = false;
    } else {
      word += ch;
      inWord = true;
    }
  }
  if (inWord) out.push(word);
  return out;
}

/** The mailferry invocations on one shell line: `a && b | c`, `source <(mailferry …)`, `# comments` dropped. */
function invocations(line: string): string[][] {
  const code = line.replace(/(^|\s)#.*$/, '');
  const found: string[][] = [];
  for (const segment of code.split(/&&|\|\||\||;|<\(|\(|\)/)) {
    const w = words(segment);
    // Redirections and their targets are the shell's, not the CLI's.
    const args = w.filter((x, i) => !/^\d?[<>]$/.test(x) && !/^\d?[<>]$/.test(w[i - 1] ?? ''));
    const start = args[0] === 'npx' && args[1] === 'mailferry' ? 2 : args[0] === 'mailferry' ? 1 : -1;
    if (start >= 0) found.push(args.slice(start));
    if (args[0] === 'npm' && args[1] === 'run' && args[2] === 'cli' && args[3] === '--') found.push(args.slice(4));
  }
  return found;
}

/**
 * What a document asks to run: the lines of its code blocks (continuations joined; not ```console, whose lines
 * show failures on purpose, nor JSON or TypeScript) and its inline code spans. Spans in table rows name a command
 * rather than run it (`mailferry batches create` in the parity table): those are checked with --help.
 */
function documented(markdown: string): { line: string; reference: boolean }[] {
  const found: { line: string; reference: boolean }[] = [];
  const prose = markdown.replace(/```(\w*)\n([\s\S]*?)```/g, (_all, lang: string, body: string) => {
    if (['console', 'json', 'ts'].includes(lang)) return '';
    for (const line of body.replace(/\\\n\s*/g, ' ').split('\n')) found.push({ line, reference: false });
    return '';
  });
  for (const text of prose.split('\n')) {
    for (const span of text.matchAll(/`([^`\n]+)`/g)) found.push({ line: span[1]!, reference: text.startsWith('|') });
  }
  return found;
}

function helpExamples(cmd: Command): string[] {
  const lines: string[] = [];
  let help = '';
  cmd.configureOutput({ writeOut: (s) => (help += s), writeErr: () => undefined });
  cmd.outputHelp();
  for (const m of help.matchAll(/^ {2}\$ (.+)$/gm)) lines.push(m[1]!);
  for (const sub of cmd.commands) lines.push(...helpExamples(sub));
  return lines;
}

const program = () => buildProgram({ env: {}, stdout: () => undefined, stderr: () => undefined });

let dir: string;
const cwd = process.cwd();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mailferry-docs-'));
  for (const [name, text] of Object.entries(FILES)) await writeFile(path.join(dir, name), text);
  process.chdir(dir);
});
afterAll(() => process.chdir(cwd));

async function parses(argv: string[]): Promise<{ argv: string; code: number; stderr: string }> {
  let stderr = '';
  const code = await runCli(
    // Placeholders (<id>, <batch>) stand for a value.
    argv.map((a) => (/^<[a-z-]+>$/.test(a) ? '6f1c3b1e-0000-4000-8000-000000000000' : a)),
    {
      env: { MAILFERRY_URL: 'http://127.0.0.1:1', MAILFERRY_TOKEN: 'mf_stub', HOME: dir, PW: 'x' },
      stdout: () => undefined,
      stderr: (t) => (stderr += t),
      // Two lines: analyze and migrate read both passwords from standard input.
      readStdin: async () => 'from-stdin\nfrom-stdin\n',
      fetch: async () =>
        new Response(JSON.stringify({ error: { code: 'STUB', message: 'the test API refuses everything' } }), {
          status: 418,
          headers: { 'content-type': 'application/json' },
        }),
    },
  );
  return { argv: argv.join(' '), code, stderr: code === 2 ? stderr : '' };
}

describe('documented command lines', () => {
  it.each(['docs/cli.md', 'README.md', 'docs/api.md'])('%s: every mailferry command parses', async (file) => {
    const topLevel = new Set(program().commands.map((c) => c.name()));
    // A line that merely mentions mailferry ("mailferry is running", "mailferry <command>") runs nothing.
    const isCommand = (argv: string[]) => argv.length === 0 || topLevel.has(argv[0]!) || argv[0]!.startsWith('-');
    let checked = 0;
    for (const { line, reference } of documented(await readFile(path.join(ROOT, file), 'utf8'))) {
      for (const argv of invocations(line).filter(isCommand)) {
        const res = await parses(reference ? [...argv, '--help'] : argv);
        expect(res).toEqual({ ...res, stderr: '' });
        expect(res.code).not.toBe(2);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(file === 'docs/cli.md' ? 60 : 0);
  });

  it('every --help example parses', async () => {
    const examples = helpExamples(program());
    expect(examples.length).toBeGreaterThan(40);
    for (const argv of examples.flatMap(invocations)) {
      const res = await parses(argv);
      expect(res).toEqual({ ...res, stderr: '' });
      expect(res.code).not.toBe(2);
    }
  });

  it('the checker itself catches a wrong line', async () => {
    expect(invocations('source <(mailferry completion bash)  # now')).toEqual([['completion', 'bash']]);
    expect(invocations('printf %s "$PW" | mailferry login --token-stdin < a.txt')).toEqual([
      ['login', '--token-stdin'],
    ]);
    expect((await parses(['batches', 'list', '--stauts', 'Synced'])).code).toBe(2);
    expect((await parses(['batches', 'create', '--name', 'x'])).code).toBe(2);
  });
});
