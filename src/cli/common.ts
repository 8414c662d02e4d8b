/**
 * What every `oktopus` command shares: the one-line error output, repeatable flags, the
 * `--org` and `--reorder-window` readings. A `UsageError` is a bad flag or input: one line, exit 2.
 */
import { DEFAULT_ORG } from '../schema/index.js';
import type { Config } from './config.js';

export class UsageError extends Error {}

/** One line on stderr. */
export const err = (line: string): void => {
  process.stderr.write(line.endsWith('\n') ? line : line + '\n');
};

/** commander argParser for a repeatable flag: every value, in order. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--org https://acme.okta.com` and `--org acme.okta.com` both name the tenant `acme.okta.com`. */
export function normaliseOrg(org: string | undefined): string {
  if (!org) return DEFAULT_ORG;
  try {
    if (/^[a-z]+:\/\//i.test(org)) return new URL(org).hostname;
  } catch {
    throw new UsageError(`--org: not a URL or host name: ${org}`);
  }
  return org.replace(/\/+$/, '');
}

/** `--reorder-window SECONDS`, else the config's `reorderWindowSeconds`, in milliseconds. */
export function reorderWindowMs(flag: string | undefined, config: Config): number | undefined {
  if (flag !== undefined) {
    const s = Number(flag);
    if (!Number.isFinite(s) || s < 0) throw new UsageError(`--reorder-window expects seconds (a number >= 0), got: ${flag}`);
    return s * 1000;
  }
  return config.reorderWindowSeconds !== undefined ? config.reorderWindowSeconds * 1000 : undefined;
}
