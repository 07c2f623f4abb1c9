/**
 * Characters never accepted in names that people read (endpoint, token, batch and folder names, token owners,
 * admin users, the user names of a mailbox list).
 *
 * - Control characters: C0, DEL, C1, and the Unicode line and paragraph separators (U+2028, U+2029).
 * - Invisible and bidirectional formatting characters: the bidi embeddings, overrides and isolates
 *   (U+202A–U+202E, U+2066–U+2069), the directional marks (U+200E, U+200F, U+061C), the zero-width space,
 *   joiners and word joiner (U+200B–U+200D, U+2060), the invisible operators (U+2061–U+2064) and the zero-width
 *   no-break space / BOM (U+FEFF). A right-to-left override makes `exe.txt` display as `txt.exe`, and a
 *   zero-width character makes two names that look the same differ, so an admin could be shown a name that is not
 *   what it looks like.
 */
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
export const INVISIBLE_CHARS = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/;

const INVISIBLE_ALL = new RegExp(INVISIBLE_CHARS.source, 'g');

function codePoint(c: string): string {
  return `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The distinct invisible or bidi characters of `s` as `U+202E, U+200B` (at most five), for messages. */
export function invisibleCodePoints(s: string): string {
  const found = [...new Set(s.match(INVISIBLE_ALL) ?? [])].map(codePoint);
  return found.length > 5 ? `${found.slice(0, 5).join(', ')}, …` : found.join(', ');
}

/** `s` with its invisible and bidi characters written out as `<U+202E>`, so a message can echo it safely. */
export function showInvisible(s: string): string {
  return s.replace(INVISIBLE_ALL, (c) => `<${codePoint(c)}>`);
}

/** Why `s` is not acceptable as a name shown to people, or undefined when it is. */
export function unsafeTextProblem(s: string): string | undefined {
  if (CONTROL_CHARS.test(s)) return 'control characters';
  if (INVISIBLE_CHARS.test(s)) return `invisible or bidirectional formatting characters (${invisibleCodePoints(s)})`;
  return undefined;
}
