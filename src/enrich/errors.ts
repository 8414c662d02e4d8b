/** Bad enrichment input (list, MMDB, users file, flag): the message is one line naming the input and position. */
export class EnrichInputError extends Error {}

/**
 * A path segment that may be a secret: one naming a key / token / secret / signature, or a long
 * run mixing letters and digits (API keys, hex or base64 tokens, UUIDs).
 */
function secretLike(segment: string): boolean {
  let s = segment;
  try {
    s = decodeURIComponent(segment);
  } catch {
    /* keep as is */
  }
  if (/api[-_]?key|token|secret|passw|auth|signature|sig=|session|bearer|credential/i.test(s)) return true;
  const run = s.replace(/\.[a-z0-9]{1,5}$/i, ''); // a file extension is not a secret
  return run.length >= 16 && /[a-z]/i.test(run) && /\d/.test(run);
}

/**
 * A URL as it may be shown or stored: no user:password, no query string or fragment, and path
 * segments that look like secrets replaced by `REDACTED` (docs/enrichment.md).
 */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    const path = u.pathname.split('/').map((seg) => (seg !== '' && secretLike(seg) ? 'REDACTED' : seg)).join('/');
    return `${u.protocol}//${u.host}${path}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** A value from an input file shown in an error: one line, at most 60 characters. */
export function shown(text: string): string {
  const one = text.replace(/[\r\n\t]+/g, ' ').trim();
  return JSON.stringify(one.length > 60 ? one.slice(0, 57) + '...' : one);
}
