/**
 * Deterministic mail corpus for the IMAP benchmark: the same seed gives the same messages, byte for byte.
 * Size mix after the issue: most messages around 8 KB (log-normal, median ~8 KB), 10% with an attachment of
 * 100 KB to 2 MB (log-uniform), and a few of 10 MB, spread over several folders.
 */

export interface CorpusMessage {
  folder: string;
  raw: Buffer;
  flags: string[];
  internalDate: Date;
}

export interface CorpusOptions {
  messages: number;
  /** Messages of about 10 MB (counted in `messages`). Default 3. */
  huge?: number;
  seed?: number;
}

const FOLDERS: Array<[string, number]> = [
  ['INBOX', 0.4],
  ['Archive/2023', 0.2],
  ['Archive/2024', 0.15],
  ['Sent', 0.1],
  ['Lists/dev', 0.1],
  ['Projects/Alpha', 0.05],
];
const WORDS =
  'the of and to in is you that it he was for on are as with his they at be this have from or one had by word but not what all were we when your can said there use an each which she do how their if will up other about out many then them these so some her would make like him into time has look two more write go see number no way could people my than first water been call who oil its now find long down day did get come made may part'.split(
    ' ',
  );

/** mulberry32: a small seeded generator, so a seed gives the same corpus every time. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function text(rand: () => number, bytes: number): string {
  const lines: string[] = [];
  let total = 0;
  while (total < bytes) {
    const words: string[] = [];
    let len = 0;
    while (len < 66) {
      const w = WORDS[Math.floor(rand() * WORDS.length)]!;
      words.push(w);
      len += w.length + 1;
    }
    const line = words.join(' ');
    lines.push(line);
    total += line.length + 2;
  }
  return lines.join('\r\n');
}

function binaryBase64(rand: () => number, bytes: number): string {
  const buf = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) buf.writeUInt32LE(Math.floor(rand() * 4294967296), Math.min(i, bytes - 4));
  return buf.toString('base64').replace(/.{76}/g, '$&\r\n');
}

/** Generates the corpus lazily, one message at a time (the 10 MB ones need not all sit in memory). */
export function* generateCorpus(options: CorpusOptions): Generator<CorpusMessage> {
  const rand = mulberry32(options.seed ?? 20240601);
  const huge = options.huge ?? 3;
  const hugeAt = new Set(Array.from({ length: huge }, (_, i) => Math.floor(((i + 1) * options.messages) / (huge + 1))));
  const start = Date.UTC(2022, 0, 1);
  for (let i = 0; i < options.messages; i++) {
    let r = rand();
    let folder = FOLDERS[0]![0];
    for (const [name, share] of FOLDERS) {
      if (r < share) {
        folder = name;
        break;
      }
      r -= share;
    }
    const date = new Date(start + Math.floor(i * 3_600_000 * 1.7 + rand() * 3_600_000));
    const subject = `${text(rand, 30).slice(0, 40)} #${i}`;
    const from = `${WORDS[i % WORDS.length]}.${WORDS[(i * 7) % WORDS.length]}@example.org`;
    const headers = [
      `Return-Path: <${from}>`,
      `Received: from mail.example.org (mail.example.org [192.0.2.${i % 250}]) by mx.example.com with ESMTPS id ${i.toString(36)}; ${date.toUTCString()}`,
      `From: ${from}`,
      'To: bench@example.com',
      `Subject: ${subject}`,
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: <${i}.${Math.floor(rand() * 1e9)}@example.org>`,
      'MIME-Version: 1.0',
    ];
    let body: string;
    const kind = hugeAt.has(i) ? 'huge' : rand() < 0.1 ? 'attachment' : 'plain';
    if (kind === 'plain') {
      // log-normal, median ~8 KB, clamped to 1..80 KB
      const g = Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand());
      const size = Math.min(80_000, Math.max(1_000, Math.round(8_000 * Math.exp(0.6 * g))));
      headers.push('Content-Type: text/plain; charset=us-ascii');
      body = text(rand, size);
    } else {
      const size = kind === 'huge' ? 10 * 1024 * 1024 : Math.round(100_000 * Math.pow(20, rand()));
      const boundary = `b${i}`;
      headers.push(`Content-Type: multipart/mixed; boundary="${boundary}"`);
      body = [
        `--${boundary}`,
        'Content-Type: text/plain; charset=us-ascii',
        '',
        text(rand, 2_000),
        `--${boundary}`,
        `Content-Type: application/octet-stream; name="file${i}.bin"`,
        'Content-Transfer-Encoding: base64',
        '',
        binaryBase64(rand, Math.floor((size * 3) / 4)),
        `--${boundary}--`,
        '',
      ].join('\r\n');
    }
    const flags: string[] = [];
    if (rand() < 0.7) flags.push('\\Seen');
    if (rand() < 0.05) flags.push('\\Flagged');
    if (rand() < 0.1) flags.push('\\Answered');
    if (rand() < 0.03) flags.push('$Label1');
    yield { folder, raw: Buffer.from(`${headers.join('\r\n')}\r\n\r\n${body}`), flags, internalDate: date };
  }
}
