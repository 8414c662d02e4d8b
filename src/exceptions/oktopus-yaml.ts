/**
 * The oktopus exception file (YAML): lists a team attaches to rules of any dialect, and the
 * value lists they read. Entries have Kibana's shapes (entries.ts).
 *
 *   lists:
 *     - id: corp-egress                  # required; also what an Elastic exceptions_list may name
 *       name: Corporate VPN egress
 *       description: …
 *       rules: ['*']                     # '*', id/name globs, or {id, name, tag, dialect} mappings
 *       schema: auto                     # field names: auto (default: ECS when the ECS mapping knows
 *                                        #   the name, else a raw LogEvent path), ecs or okta
 *       items:
 *         - id: vpn                      # required
 *           name: VPN egress ranges
 *           expire_time: 2027-01-01T00:00:00Z
 *           entries:
 *             - { field: source.ip, type: list, operator: included, list: { id: corp-vpn, type: ip_range } }
 *   value_lists:
 *     corp-vpn: { type: ip_range, file: corp-vpn.txt }     # path relative to this file
 *     admins:   { type: keyword, values: [ann@acme.com] }
 *
 * A document with `items:` at the top is one list. Each bad list, item or value list is
 * reported (file:line) and skipped; the rest are kept.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, visit, type Node } from 'yaml';
import { yamlErrorReason } from '../dialects/errors.js';
import { checkExpireTime, checkOsTypes, type Drafts, type ListDraft } from './drafts.js';
import type { FieldVocabulary } from './entries.js';
import type { RuleSelector } from './types.js';
import { checkValueListType, valuesOfText } from './value-lists.js';

type Obj = Record<string, unknown>;

const LIST_KEYS = ['id', 'name', 'description', 'rules', 'schema', 'items', 'namespace_type'];
const ITEM_KEYS = ['id', 'item_id', 'name', 'description', 'expire_time', 'entries', 'comments', 'tags', 'os_types'];
const SELECTOR_KEYS = ['id', 'name', 'tag', 'dialect'];

function isObj(v: unknown): v is Obj {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

function selectorsOf(v: unknown): RuleSelector[] {
  if (v === undefined) throw new Error("no rules: (which rules the list applies to; '*' for all)");
  const list = Array.isArray(v) ? v : [v];
  if (list.length === 0) throw new Error('rules: is empty');
  return list.map((s, i) => {
    if (s === '*') return { all: true };
    if (typeof s === 'string' && s.trim() !== '') return { idOrName: s };
    if (isObj(s)) {
      const keys = Object.keys(s);
      const unknown = keys.find((k) => !SELECTOR_KEYS.includes(k));
      if (unknown || keys.length === 0) throw new Error(`rules entry ${i + 1}: ${unknown ? `unknown key '${unknown}'` : 'empty'} (known: ${SELECTOR_KEYS.join(', ')})`);
      for (const k of keys) if (typeof s[k] !== 'string' || (s[k] as string) === '') throw new Error(`rules entry ${i + 1}: ${k} must be a non-empty string`);
      return s as RuleSelector;
    }
    throw new Error(`rules entry ${i + 1}: a rule id/name glob, '*' or a mapping of id, name, tag, dialect`);
  });
}

function vocabularyOf(v: unknown): FieldVocabulary {
  if (v === undefined || v === 'auto') return 'auto';
  if (v === 'ecs' || v === 'okta') return v;
  throw new Error(`schema ${JSON.stringify(v)} is not auto, ecs or okta`);
}

export function readOktopusYaml(text: string, file: string, out: Drafts): void {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    out.errors.push({ source: file, message: `${file}${pos ? `:${pos.line}` : ''}: ${yamlErrorReason(e.message)}` });
    return;
  }
  // Exception values are strings (Kibana keeps every value as one): a plain scalar YAML would
  // read as a number or boolean keeps its source text, so `value: 007` is '007' (not 7),
  // `1e3` is '1e3' (not 1000), `True` is 'True', and `id: 5` is the id '5'.
  visit(doc, {
    Scalar(_key, node) {
      if ((typeof node.value === 'number' || typeof node.value === 'boolean' || typeof node.value === 'bigint') && node.source !== undefined) node.value = node.source;
    },
  });
  let root: unknown;
  try {
    // toJS refuses documents whose aliases expand beyond yaml's limit (a "billion laughs" file).
    root = doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch (e) {
    out.errors.push({ source: file, message: `${file}: cannot read it as YAML (${yamlErrorReason((e as Error).message)})` });
    return;
  }
  const lineOf = (path: (string | number)[]): number | undefined => {
    const node = doc.getIn(path, true) as Node | undefined;
    const offset = node?.range?.[0];
    return offset === undefined ? undefined : lines.linePos(offset).line;
  };
  const at = (path: (string | number)[]): string => {
    const line = lineOf(path);
    return line === undefined ? file : `${file}:${line}`;
  };
  if (!isObj(root)) {
    out.errors.push({ source: file, message: `${file}: an exception file is a mapping with lists: (and value_lists:)` });
    return;
  }
  const single = 'items' in root && !('lists' in root);
  const known = single ? [...LIST_KEYS, 'value_lists'] : ['lists', 'value_lists'];
  for (const k of Object.keys(root)) {
    if (!known.includes(k)) out.errors.push({ source: at([k]), message: `${at([k])}: unknown key '${k}' (known: ${known.join(', ')})` });
  }

  // Value lists.
  const vls = root['value_lists'];
  if (vls !== undefined && !isObj(vls)) out.errors.push({ source: at(['value_lists']), message: `${at(['value_lists'])}: value_lists is a mapping of list id -> {type, file | values}` });
  else if (vls) {
    for (const [id, spec] of Object.entries(vls)) {
      const where = `${at(['value_lists', id])}: value list '${id}'`;
      try {
        if (!isObj(spec)) throw new Error('expected {type, file} or {type, values}');
        const type = checkValueListType(spec['type']);
        const hasFile = spec['file'] !== undefined;
        const hasValues = spec['values'] !== undefined;
        if (hasFile === hasValues) throw new Error('give either file: or values:');
        let values;
        if (hasFile) {
          if (typeof spec['file'] !== 'string') throw new Error('file: must be a path');
          const path = resolve(dirname(file), spec['file']);
          let content: string;
          try {
            content = readFileSync(path, 'utf8');
          } catch (e) {
            throw new Error(`cannot read ${spec['file']} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
          }
          values = valuesOfText(content, path);
        } else {
          const list = spec['values'];
          if (!Array.isArray(list)) throw new Error('values: must be a list');
          values = list.map((v, i) => ({ value: String(v).trim(), at: `${at(['value_lists', id, 'values', i])}` }));
        }
        out.valueLists.push({ id, type, values, source: at(['value_lists', id]) });
      } catch (e) {
        out.errors.push({ source: file, message: `${where}: ${(e as Error).message}` });
      }
    }
  }

  // Exception lists.
  let lists: unknown[];
  let base: (string | number)[];
  if (single) {
    lists = [root];
    base = [];
  } else {
    const l = root['lists'];
    if (l === undefined) {
      if (!vls) out.errors.push({ source: file, message: `${file}: no lists: (and no value_lists:)` });
      return;
    }
    if (!Array.isArray(l)) {
      out.errors.push({ source: at(['lists']), message: `${at(['lists'])}: lists: is a list of exception lists` });
      return;
    }
    lists = l;
    base = ['lists'];
  }
  lists.forEach((raw, li) => {
    const path = single ? [] : [...base, li];
    const id = isObj(raw) && typeof raw['id'] === 'string' ? raw['id'] : undefined;
    const where = `${at(path)}: list ${id ? `'${id}'` : li + 1}`;
    let draft: ListDraft;
    try {
      if (!isObj(raw)) throw new Error('a list is a mapping with id, rules and items');
      if (!id) throw new Error('a list needs an id');
      for (const k of Object.keys(raw)) if (!LIST_KEYS.includes(k) && !(single && k === 'value_lists')) throw new Error(`unknown key '${k}' (known: ${LIST_KEYS.join(', ')})`);
      if (!Array.isArray(raw['items'])) throw new Error('items: must be a list');
      draft = {
        id,
        name: typeof raw['name'] === 'string' ? raw['name'] : undefined,
        description: typeof raw['description'] === 'string' ? raw['description'] : undefined,
        namespaceType: 'single',
        type: 'oktopus',
        file,
        at: at(path),
        format: 'oktopus',
        selectors: selectorsOf(raw['rules']),
        vocabulary: vocabularyOf(raw['schema']),
        items: [],
      };
    } catch (e) {
      out.errors.push({ source: at(path), message: `${where}: ${(e as Error).message}` });
      return;
    }
    (raw['items'] as unknown[]).forEach((item, ii) => {
      const ipath = [...path, 'items', ii];
      const itemId = isObj(item) ? (item['id'] ?? item['item_id']) : undefined;
      const iwhere = `${at(ipath)}: list '${draft.id}' item ${typeof itemId === 'string' ? `'${itemId}'` : ii + 1}`;
      try {
        if (!isObj(item)) throw new Error('an item is a mapping with id, name and entries');
        if (typeof itemId !== 'string' || itemId === '') throw new Error('an item needs an id');
        for (const k of Object.keys(item)) if (!ITEM_KEYS.includes(k)) throw new Error(`unknown key '${k}' (known: ${ITEM_KEYS.join(', ')})`);
        draft.items.push({
          id: itemId,
          name: typeof item['name'] === 'string' ? item['name'] : itemId,
          entries: item['entries'],
          expireTime: checkExpireTime(item['expire_time']),
          osTypes: checkOsTypes(item['os_types']),
          where: iwhere,
          source: at(ipath),
        });
      } catch (e) {
        out.errors.push({ source: at(ipath), message: `${iwhere}: ${(e as Error).message}` });
      }
    });
    out.lists.push(draft);
  });
}
