/**
 * What every command that loads rules does with `--exceptions` (scan, explain, rules list,
 * watch, backfill, serve): load the files, report bad lines (they count as load errors: exit 2,
 * the good items are kept), attach the lists, warn about lists applying to no rule, and keep
 * rules naming a list that was not provided as unsupported (the reason names the list id).
 */
import { Option } from 'commander';
import type { LoadedRules } from '../rules/load.js';
import { attachExceptions, loadExceptions, partitionByLists } from './index.js';

export async function applyExceptionFiles(loaded: LoadedRules, paths: string[], warn: (line: string) => void): Promise<LoadedRules> {
  let rules = loaded.rules;
  const errors = [...loaded.errors];
  if (paths.length > 0) {
    const { lists, errors: bad, warnings } = await loadExceptions(paths);
    for (const e of bad) errors.push({ file: e.source, message: e.message });
    for (const w of warnings) warn(w);
    const attached = attachExceptions(rules, lists);
    for (const w of attached.warnings) warn(w);
    rules = attached.rules;
  }
  const split = partitionByLists(rules);
  return { ...loaded, rules: split.rules, unsupported: [...loaded.unsupported, ...split.unsupported], errors };
}

/** The `--exceptions PATH` option (repeatable), shared by every command that loads rules. */
export function exceptionsOption(): Option {
  return new Option('--exceptions <path>', 'exception lists: Kibana exception-list export (.ndjson), oktopus exception file (.yml), value list (.txt), or a folder of them (repeatable; docs/exceptions.md)').argParser(
    (v: string, prev: string[] | undefined) => [...(prev ?? []), v],
  );
}

/**
 * One line per exception item that removed events, summed over the rules it is attached to
 * (`exceptions: iCloud Private Relay (benign-proxies/private-relay): 120 events removed from 3 rules`),
 * and first one line per item the engine could not compile (the rules ran without it).
 */
export function exceptionSummary(counts: { rule: string; list: string; item: string; name: string; events: number; error?: string }[]): string[] {
  const byItem = new Map<string, { name: string; events: number; rules: number }>();
  const failed = new Map<string, { error: string; rules: number }>();
  for (const c of counts) {
    if (c.error !== undefined) {
      const f = failed.get(c.error) ?? { error: c.error, rules: 0 };
      f.rules++;
      failed.set(c.error, f);
      continue;
    }
    if (c.events === 0) continue;
    const key = `${c.list}/${c.item}`;
    const s = byItem.get(key) ?? { name: c.name, events: 0, rules: 0 };
    s.events += c.events;
    s.rules++;
    byItem.set(key, s);
  }
  const errors = [...failed.values()].map((f) => `error: exceptions: ${f.error} (${f.rules} rule${f.rules === 1 ? '' : 's'})`);
  return [...errors, ...[...byItem].map(([key, s]) => `exceptions: ${s.name} (${key}): ${s.events} event${s.events === 1 ? '' : 's'} removed from ${s.rules} rule${s.rules === 1 ? '' : 's'}`)];
}
