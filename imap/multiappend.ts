import type { ImapFlow } from 'imapflow';
import { encodeModifiedUtf7 } from './utf7';

/** One message to append: the raw bytes, its flags and its INTERNALDATE. */
export interface AppendItem {
  raw: Buffer;
  flags: string[];
  internalDate: Date | null;
}

export interface AppendOutcome {
  /** UIDVALIDITY of the destination folder as reported with APPENDUID (UIDPLUS), else null. */
  uidvalidity: number | null;
  /** The UID of each item in order, or null when the server did not report them. */
  uids: (number | null)[];
}

interface ExecResponse {
  response: { attributes?: Array<{ section?: Array<{ value?: unknown }> }> };
  next(): void;
}
interface Exec {
  exec(command: string, attributes: unknown[], options?: Record<string, unknown>): Promise<ExecResponse>;
}

/**
 * imapflow sends a literal over 4 KB as a synchronizing literal even when the server has LITERAL+ (it only ever
 * asks its command compiler for LITERAL- behaviour), so every message of a MULTIAPPEND waits for the server's
 * "+" before it is sent: one round trip, and a stall of the server's pipeline, per message. For the APPENDs this
 * module sends, and only on servers that advertise LITERAL+ (RFC 7888), the compiler is asked for
 * non-synchronizing literals: the whole command goes out at once. Marked by a symbol on the command's first
 * attribute; if imapflow's internals ever move, the wrapper is simply not installed and appends stay correct,
 * only slower.
 *
 * The compiler then joins the whole command, up to 16 MiB of messages, into one new buffer, and imapflow writes
 * that: a copy of every byte appended, freshly allocated memory per command (page faults, and a second batch's worth
 * of RSS per folder lane). A client whose `write` is wrapped ({@link installFramedWrite}) marks its commands with a
 * second symbol; for those the compiler leaves the messages out (empty literals), and the command goes to the socket
 * as its text between the messages and the messages' own buffers, one write each.
 */
const LITERAL_PLUS = Symbol.for('mailferry.literalPlus');
const FRAMED = Symbol.for('mailferry.framedWrite');
type Compiler = (data: { attributes?: unknown }, options?: Record<string, unknown>) => unknown;
type Write = (chunk: unknown) => unknown;
/** A compiled command as the parts it is written in: text, a message, text, ... (see installFramedWrite). */
class Frames {
  constructor(readonly parts: Buffer[]) {}
}
interface LiteralNode {
  type: 'LITERAL';
  value: Buffer;
}
const EMPTY = Buffer.alloc(0);
/** What the compiler writes for an empty non-synchronizing literal (after an optional `~` for literal8). */
const EMPTY_LITERAL = Buffer.from('{0+}\r\n');
let literalPlusInstalled: boolean | null = null;

function installLiteralPlus(): boolean {
  if (literalPlusInstalled !== null) return literalPlusInstalled;
  literalPlusInstalled = false;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const handler = require('imapflow/lib/handler/imap-handler.js') as { compiler?: Compiler };
    const original = handler.compiler;
    if (typeof original !== 'function') return false;
    handler.compiler = function compilerWithLiteralPlus(data, options) {
      const first = Array.isArray(data?.attributes)
        ? (data.attributes[0] as Record<symbol, unknown> | undefined)
        : undefined;
      if (!first?.[LITERAL_PLUS]) return original(data, options);
      const plus = { ...options, literalPlus: true };
      return (first[FRAMED] && options?.asArray && compileFramed(original, data, plus)) || original(data, plus);
    };
    literalPlusInstalled = true;
  } catch {
    // keep imapflow's own behaviour
  }
  return literalPlusInstalled;
}

/**
 * Compiles a command with its literals' data left out and splits the result where each literal's data belongs:
 * `[new Frames([text, data, text, data, ..., text])]`, the form `send` hands to `write`. The text is imapflow's own
 * output (quoting, spacing, the literal8 marker); only the literals' sizes are written here. Null when the compiled
 * text does not hold one empty literal per literal (never expected), so the caller compiles the usual way.
 */
function compileFramed(
  original: Compiler,
  data: { attributes?: unknown },
  options: Record<string, unknown>,
): [Frames] | null {
  const literals: Buffer[] = [];
  const attributes = (data.attributes as unknown[]).map((a) => {
    if ((a as LiteralNode | null)?.type !== 'LITERAL' || !Buffer.isBuffer((a as LiteralNode).value)) return a;
    literals.push((a as LiteralNode).value);
    return { ...(a as LiteralNode), value: EMPTY };
  });
  const compiled = original({ ...data, attributes }, options);
  if (!Array.isArray(compiled) || compiled.length !== 1 || !Buffer.isBuffer(compiled[0])) return null;
  const text: Buffer = compiled[0];
  const parts: Buffer[] = [];
  let from = 0;
  for (const literal of literals) {
    // Quoted strings and atoms cannot hold a CRLF, so every "{0+}\r\n" in the text is an empty literal's.
    const at = text.indexOf(EMPTY_LITERAL, from);
    if (at < 0) return null;
    parts.push(Buffer.concat([text.subarray(from, at), Buffer.from(`{${literal.length}+}\r\n`)]));
    if (literal.length) parts.push(literal);
    from = at + EMPTY_LITERAL.length;
  }
  if (text.indexOf(EMPTY_LITERAL, from) >= 0) return null;
  parts.push(text.subarray(from));
  return [new Frames(parts)];
}

const framedClients = new WeakSet<object>();

/**
 * Wraps this client's `write` so that it takes {@link Frames}: each part goes through imapflow's own `write` (its
 * checks of the socket and state, its byte counter, its raw log) as a part of a command with more to come, so only
 * the last gets the command's CRLF. False when imapflow's `write` or `commandParts` are not what this expects.
 */
function installFramedWrite(client: ImapFlow): boolean {
  if (framedClients.has(client)) return true;
  const internals = client as unknown as { write?: Write; commandParts?: unknown };
  const write = internals.write;
  if (typeof write !== 'function' || !Array.isArray(internals.commandParts)) return false;
  internals.write = function framedWrite(this: { commandParts: unknown[] }, chunk: unknown) {
    if (!(chunk instanceof Frames)) return write.call(this, chunk);
    const pending = this.commandParts;
    const last = chunk.parts.length - 1;
    try {
      // imapflow adds the CRLF to a write when no part of the command is left to send
      this.commandParts = [chunk];
      for (let i = 0; i < last; i++) write.call(this, chunk.parts[i]);
    } finally {
      this.commandParts = pending;
    }
    return write.call(this, chunk.parts[last]);
  };
  framedClients.add(client);
  return true;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** IMAP date-time (RFC 3501): `06-May-2023 07:08:09 +0000`, always in UTC. */
export function formatInternalDate(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

/** Flags that can be set by APPEND/STORE: system flags except \Recent, and keywords that are valid atoms. */
export function appendableFlags(flags: Iterable<string>): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (!f || f.toLowerCase() === '\\recent' || f === '\\*') continue;
    if (!/^\\?[^\s(){%*"\\\]\x00-\x1f\x7f]+$/.test(f)) continue;
    out.push(f);
  }
  return out;
}

/** Expands an RFC 4315 uid-set ("5:7,9") into UIDs in the order given. */
export function expandUidSet(set: string): number[] {
  const out: number[] = [];
  for (const part of set.split(',')) {
    const [a, b] = part.split(':');
    const from = Number(a);
    const to = b === undefined ? from : Number(b);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return [];
    if (from <= to) for (let u = from; u <= to; u++) out.push(u);
    else for (let u = from; u >= to; u--) out.push(u);
  }
  return out;
}

export function mailboxArgument(client: ImapFlow, path: string): string {
  return client.enabled.has('UTF8=ACCEPT') ? path : encodeModifiedUtf7(path);
}

/**
 * Appends messages to one folder in one command: MULTIAPPEND (RFC 3502) when the server has it, with
 * non-synchronizing literals when it has LITERAL+ (imapflow sends them without waiting). The command is
 * all-or-nothing; a NO rejects with imapflow's error (`responseStatus`, `responseText`), and the caller
 * isolates the refused message by appending one at a time. Without MULTIAPPEND, items go one by one.
 */
export async function appendMessages(client: ImapFlow, path: string, items: AppendItem[]): Promise<AppendOutcome> {
  if (!items.length) return { uidvalidity: null, uids: [] };
  if (items.length > 1 && !client.capabilities.has('MULTIAPPEND')) {
    const uids: (number | null)[] = [];
    let uidvalidity: number | null = null;
    for (const item of items) {
      const r = await appendMessages(client, path, [item]);
      uidvalidity = r.uidvalidity ?? uidvalidity;
      uids.push(r.uids[0] ?? null);
    }
    return { uidvalidity, uids };
  }
  const binary = client.capabilities.has('BINARY');
  const first: Record<string | symbol, unknown> = { type: 'STRING', value: mailboxArgument(client, path) };
  if (client.capabilities.has('LITERAL+') && installLiteralPlus()) {
    first[LITERAL_PLUS] = true;
    if (installFramedWrite(client)) first[FRAMED] = true;
  }
  const attributes: unknown[] = [first];
  for (const item of items) {
    attributes.push(appendableFlags(item.flags).map((f) => ({ type: 'ATOM', value: f })));
    if (item.internalDate && !Number.isNaN(item.internalDate.getTime())) {
      attributes.push({ type: 'STRING', value: formatInternalDate(item.internalDate) });
    }
    attributes.push({ type: 'LITERAL', value: item.raw, isLiteral8: binary && item.raw.indexOf(0) >= 0 });
  }
  const response = await (client as unknown as Exec).exec('APPEND', attributes, {});
  const section = response.response.attributes?.[0]?.section;
  response.next();
  let uidvalidity: number | null = null;
  let uids: (number | null)[] = items.map(() => null);
  if (section && String(section[0]?.value ?? '').toUpperCase() === 'APPENDUID') {
    uidvalidity = Number(section[1]?.value);
    const expanded = expandUidSet(String(section[2]?.value ?? ''));
    if (expanded.length === items.length) uids = expanded;
  }
  return { uidvalidity, uids };
}
