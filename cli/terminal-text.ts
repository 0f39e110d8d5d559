/**
 * Text from outside (a file's headers and cells, names stored in the database) shown in a
 * terminal. A terminal obeys what it is sent: ESC starts a sequence that colours, moves the
 * cursor, retitles the window or rewrites the line above, and a bidi override (U+202E) shows
 * "exe.cod" as "doc.exe". So such characters are shown as escapes, the way JavaScript writes
 * them: ESC as `\x1b`, U+202E as `\u202e`. The rest of the text, every letter of every script,
 * is left as it is. JSON output does not go through here: it is exact JSON.
 */

/**
 * C0 controls, DEL, C1 controls (0x9b is a one-byte CSI in some terminals), the bidi embeddings
 * and overrides (U+202A–U+202E) and isolates (U+2066–U+2069).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const UNSAFE_KEEPING_LAYOUT = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

const visible = (ch: string): string => {
  const code = ch.charCodeAt(0);
  if (ch === '\n') return '\\n';
  if (ch === '\r') return '\\r';
  if (ch === '\t') return '\\t';
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
};

/** One value or one line: every control character escaped, line breaks and tabs too. */
export function terminalLine(text: string): string {
  return text.replace(UNSAFE, visible);
}

/** A block of text we laid out ourselves: its line breaks and tabs stay, everything else is escaped. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE_KEEPING_LAYOUT, visible);
}
