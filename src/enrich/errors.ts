/** Bad enrichment input (list, MMDB, users file, flag): the message is one line naming the input and position. */
export class EnrichInputError extends Error {}

/** A URL as it may be shown: no user:password, no query string or fragment (they can hold tokens). */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A value from an input file shown in an error: one line, at most 60 characters. */
export function shown(text: string): string {
  const one = text.replace(/[\r\n\t]+/g, ' ').trim();
  return JSON.stringify(one.length > 60 ? one.slice(0, 57) + '...' : one);
}
