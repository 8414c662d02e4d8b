/**
 * What the file readers produce before value lists are resolved: lists and items with their raw
 * entries. Items become predicates in index.ts once every file (and so every value list) is read.
 */
import type { ExceptionList } from './types.js';
import type { ValueList } from './value-lists.js';

export interface ItemDraft {
  id: string;
  name: string;
  entries: unknown;
  expireTime?: string;
  /** Kibana `os_types` (endpoint exceptions): a non-empty list makes the item match nothing here. */
  osTypes: string[];
  /** Prefix of this item's error lines (`corp.yml: list 'vpn' item 'egress'`, `x.ndjson:4: item 'a1'`). */
  where: string;
  /** Where it was written, as RuleException.source (`x.ndjson:4`, `corp.yml:12`). */
  source: string;
}

/** A list as read, before its items become predicates: an ExceptionList with raw items. */
export interface ListDraft extends Omit<ExceptionList, 'items'> {
  /** Where the list is defined (`file:line`), for duplicate-id errors. */
  at: string;
  items: ItemDraft[];
}

export interface Drafts {
  lists: ListDraft[];
  valueLists: ValueList[];
  errors: { source: string; message: string }[];
}

/** Kibana `expire_time`: an ISO-8601 date-time; returns the normalised string or throws. */
export function checkExpireTime(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const text = v instanceof Date ? v.toISOString() : v;
  if (typeof text !== 'string' || Number.isNaN(Date.parse(text))) throw new Error(`expire_time ${JSON.stringify(v)} is not an ISO-8601 date-time`);
  return new Date(Date.parse(text)).toISOString();
}

/** Kibana `os_types`: absent, or a list of OS names (`windows`, `linux`, `macos`). */
export function checkOsTypes(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error('os_types must be a list of OS names (windows, linux, macos)');
  return v as string[];
}

export function namespaceOf(v: unknown): 'single' | 'agnostic' {
  if (v === undefined || v === null || v === 'single') return 'single';
  if (v === 'agnostic') return 'agnostic';
  throw new Error(`namespace_type ${JSON.stringify(v)} is not single or agnostic`);
}
