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
 * non-synchronizing literals: the whole command goes out in one write. Marked by a symbol on the command's first
 * attribute; if imapflow's internals ever move, the wrapper is simply not installed and appends stay correct,
 * only slower.
 */
const LITERAL_PLUS = Symbol.for('mailferry.literalPlus');
type Compiler = (data: { attributes?: unknown }, options?: Record<string, unknown>) => unknown;
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
      return original(data, first?.[LITERAL_PLUS] ? { ...options, literalPlus: true } : options);
    };
    literalPlusInstalled = true;
  } catch {
    // keep imapflow's own behaviour
  }
  return literalPlusInstalled;
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
  if (client.capabilities.has('LITERAL+') && installLiteralPlus()) first[LITERAL_PLUS] = true;
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
