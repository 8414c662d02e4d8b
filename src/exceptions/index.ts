/**
 * Exception lists: how teams tune vendor rules without editing them (docs/exceptions.md).
 *
 *   loadExceptions(paths)          files and folders given with --exceptions:
 *                                    *.ndjson / *.json / *.jsonl   Kibana exception-list exports (kibana.ts)
 *                                    *.yml / *.yaml                oktopus exception files (oktopus-yaml.ts)
 *                                    *.txt / *.csv                 value lists, one value per line; id = file name
 *   attachExceptions(rules, lists) each rule gets the items of the lists it names (Elastic
 *                                  `exceptions_list`) and of the YAML lists selecting it.
 *
 * The engine drops an event the rule's own filter matched when any attached item matches it
 * (src/engine/exceptions.ts), before every stage: as Kibana adds the exception filter to the
 * query of every rule type (query, EQL, threshold, new_terms) before aggregation.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import type { RuleIR, RuleException, UnsupportedRule } from '../ir/types.js';
import { expandPaths } from '../util/walk.js';
import type { Drafts, ListDraft } from './drafts.js';
import { EntryError, itemPredicate, type EntryContext } from './entries.js';
import { readKibanaExport } from './kibana.js';
import { readOktopusYaml } from './oktopus-yaml.js';
import type { ExceptionList, ExceptionLoadError, RuleSelector } from './types.js';
import { valuesOfText, type ValueList } from './value-lists.js';

export type { ExceptionList, ExceptionLoadError, RuleSelector } from './types.js';
export { isEcsField } from './entries.js';

const KIBANA_ENDINGS = ['.ndjson', '.json', '.jsonl'];
const YAML_ENDINGS = ['.yml', '.yaml'];
const VALUE_LIST_ENDINGS = ['.txt', '.csv'];
const ENDINGS = [...KIBANA_ENDINGS, ...YAML_ENDINGS, ...VALUE_LIST_ENDINGS];

/**
 * Loads exception files. `errors` are load errors (the bad line, item or value is left out, the
 * rest kept); `warnings` are items that load but look wrong (an unknown field) or can never match
 * (os_types).
 */
export async function loadExceptions(paths: string[]): Promise<{ lists: ExceptionList[]; errors: ExceptionLoadError[]; warnings: string[] }> {
  const drafts: Drafts = { lists: [], valueLists: [], errors: [] };
  const files = expandPaths(paths, {
    accept: (name: string) => ENDINGS.includes(extname(name).toLowerCase()),
    skip: ['node_modules'],
    onError: (file: string, reason: string) => drafts.errors.push({ source: file, message: `${file}: ${reason}` }),
  });
  for (const file of [...new Set(files)]) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      drafts.errors.push({ source: file, message: `${file}: cannot read it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` });
      continue;
    }
    const ext = extname(file).toLowerCase();
    // Whatever goes wrong inside one file is that file's error line; the other files are still used.
    try {
      if (YAML_ENDINGS.includes(ext)) readOktopusYaml(text, file, drafts);
      else if (VALUE_LIST_ENDINGS.includes(ext)) drafts.valueLists.push({ id: basename(file), values: valuesOfText(text, file), source: file });
      else if (KIBANA_ENDINGS.includes(ext) || text.trimStart().startsWith('{')) readKibanaExport(text, file, drafts);
      else drafts.errors.push({ source: file, message: `${file}: not an exception file (Kibana export .ndjson, oktopus .yml, value list .txt)` });
    } catch (e) {
      drafts.errors.push({ source: file, message: `${file}: cannot read it (${(e as Error).message.split('\n')[0]})` });
    }
  }
  return resolveDrafts(drafts);
}

/** Value lists by id; the first definition of an id wins, a second is an error. */
function valueListIndex(drafts: Drafts): Map<string, ValueList> {
  const out = new Map<string, ValueList>();
  for (const v of drafts.valueLists) {
    const first = out.get(v.id);
    if (first) {
      drafts.errors.push({ source: v.source, message: `${v.source}: value list '${v.id}' is already defined in ${first.source}; this one is skipped` });
      continue;
    }
    out.set(v.id, v);
    // A file's list can also be named without its ending (`corp-vpn` for corp-vpn.txt).
    const bare = v.id.replace(/\.(txt|csv)$/i, '');
    if (bare !== v.id && !out.has(bare)) out.set(bare, v);
  }
  return out;
}

/**
 * Items reading one of Kibana's large value lists (value-lists.ts, largeListReason), with why:
 * Kibana does not apply them to EQL, threshold and new_terms rules (attachExceptions).
 */
const largeListItems = new WeakMap<RuleException, string>();

function resolveDrafts(drafts: Drafts): { lists: ExceptionList[]; errors: ExceptionLoadError[]; warnings: string[] } {
  const valueLists = valueListIndex(drafts);
  const lists: ExceptionList[] = [];
  const warnings: string[] = [];
  // A bad value of a value list is reported once, however many items read the list.
  const reportedValues = new Set<string>();
  // A Kibana list is known by namespace and list_id (the same id may exist in both namespaces);
  // an oktopus list by its id, which no other list may share.
  const loaded: ListDraft[] = [];
  const clash = (d: ListDraft) => loaded.find((o) => o.id === d.id && (d.format === 'oktopus' || o.format === 'oktopus' || o.namespaceType === d.namespaceType));
  for (const d of drafts.lists) {
    const first = clash(d);
    if (first) {
      drafts.errors.push({ source: d.at, message: `${d.at}: list '${d.id}' is already loaded from ${first.at}; this copy is skipped` });
      continue;
    }
    loaded.push(d);
    const items: RuleException[] = [];
    const itemIds = new Set<string>();
    for (const it of d.items) {
      if (itemIds.has(it.id)) {
        drafts.errors.push({ source: it.source, message: `${it.where}: item id '${it.id}' appears twice in list '${d.id}'; this one is skipped` });
        continue;
      }
      itemIds.add(it.id);
      const ctx: EntryContext = { vocabulary: d.vocabulary, valueLists, listProblems: [], fieldWarnings: [], largeLists: [] };
      let item: RuleException;
      try {
        const predicate = itemPredicate(it.entries, ctx);
        item = { list: d.id, ...(d.name ? { listName: d.name } : {}), item: it.id, name: it.name, predicate, source: it.source, ...(it.expireTime ? { expireTime: it.expireTime } : {}) };
      } catch (e) {
        if (!(e instanceof EntryError)) throw e;
        drafts.errors.push({ source: it.source, message: `${it.where}: ${e.message}` });
        continue;
      } finally {
        for (const p of ctx.listProblems) {
          const key = `${p.at}\u0000${p.message}`;
          if (reportedValues.has(key)) continue;
          reportedValues.add(key);
          drafts.errors.push({ source: p.at, message: `${p.at}: ${p.message} (value skipped; first used by ${it.where})` });
        }
      }
      for (const w of ctx.fieldWarnings) warnings.push(`${it.where}: ${w}`);
      // Kibana ANDs host.os.type (os_types) to the item: no Okta event has a host OS.
      if (it.osTypes.length > 0) {
        warnings.push(`${it.where}: os_types [${it.osTypes.join(', ')}] limits the item to hosts of that OS; Okta events have no host.os.type, so it matches nothing and is left out`);
        continue;
      }
      if (ctx.largeLists.length > 0) largeListItems.set(item, ctx.largeLists.join('; '));
      items.push(item);
    }
    lists.push({
      id: d.id,
      ...(d.name ? { name: d.name } : {}),
      ...(d.description ? { description: d.description } : {}),
      namespaceType: d.namespaceType,
      type: d.type,
      file: d.file,
      format: d.format,
      ...(d.selectors ? { selectors: d.selectors } : {}),
      vocabulary: d.vocabulary,
      items,
    });
  }
  return { lists, errors: drafts.errors, warnings };
}

/* ------------------------------------------------------------------------------------------ */
/* Attaching lists to rules                                                                    */
/* ------------------------------------------------------------------------------------------ */

function globTest(glob: string): (s: string) => boolean {
  const re = new RegExp('^' + glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'is');
  return (s) => re.test(s);
}

/** Whether a YAML list's selector picks this rule. */
export function selects(s: RuleSelector, rule: RuleIR): boolean {
  if ('all' in s) return true;
  if (s.idOrName !== undefined) {
    const t = globTest(s.idOrName);
    return t(rule.id) || t(rule.name);
  }
  if (s.id !== undefined && !globTest(s.id)(rule.id)) return false;
  if (s.name !== undefined && !globTest(s.name)(rule.name)) return false;
  if (s.dialect !== undefined && !globTest(s.dialect)(rule.dialect)) return false;
  if (s.tag !== undefined) {
    const t = globTest(s.tag);
    if (!rule.tags.some((tag) => t(tag))) return false;
  }
  return true;
}

/** A Kibana list answers a rule's reference by list_id and namespace; an oktopus list by id. */
function answers(list: ExceptionList, ref: { listId: string; namespaceType: string }): boolean {
  return list.id === ref.listId && (list.format === 'oktopus' || list.namespaceType === ref.namespaceType);
}

/** Elastic rule types Kibana runs without exception items reading a large value list. */
const NO_LARGE_LISTS = ['eql', 'threshold', 'new_terms'];

/**
 * New IR objects with `exceptions` filled in: the items of the lists each rule names (Elastic
 * `exceptions_list`, marked `attached`) and of the YAML lists whose `rules:` select it, each list
 * once. A list that applies to no rule is a warning. As in Kibana, an Elastic EQL, threshold or
 * new_terms rule does not get an item reading a large value list (a warning names both).
 */
export function attachExceptions(rules: RuleIR[], lists: ExceptionList[]): { rules: RuleIR[]; warnings: string[] } {
  const used = new Set<ExceptionList>();
  const largeWarnings: string[] = [];
  const applicable = (rule: RuleIR, items: RuleException[]): RuleException[] => {
    if (rule.dialect !== 'elastic' || !NO_LARGE_LISTS.includes(rule.ruleType)) return items;
    return items.filter((x) => {
      const why = largeListItems.get(x);
      if (why === undefined) return true;
      largeWarnings.push(`rule '${rule.name}' (${rule.ruleType}): exception item '${x.item}' of list '${x.list}' is not applied: ${why}, and Kibana applies large value lists only to query, ML and indicator-match rules`);
      return false;
    });
  };
  const out = rules.map((rule) => {
    const chosen: ExceptionList[] = [];
    const refs = rule.exceptionLists?.map((ref) => {
      const list = lists.find((l) => answers(l, ref));
      if (list && !chosen.includes(list)) chosen.push(list);
      return list ? { ...ref, attached: true } : ref;
    });
    for (const l of lists) if (l.selectors?.some((s) => selects(s, rule)) && !chosen.includes(l)) chosen.push(l);
    if (chosen.length === 0 && refs === undefined) return rule;
    for (const l of chosen) used.add(l);
    const exceptions = [...(rule.exceptions ?? []), ...applicable(rule, chosen.flatMap((l) => l.items))];
    return { ...rule, ...(exceptions.length > 0 ? { exceptions } : {}), ...(refs ? { exceptionLists: refs } : {}) };
  });
  const warnings = lists
    .filter((l) => !used.has(l))
    .map((l) => `${l.file}: list '${l.id}' applies to no loaded rule${l.format === 'kibana' ? ' (no Elastic rule names it in exceptions_list)' : ' (its rules: select none)'}`);
  return { rules: out, warnings: [...warnings, ...largeWarnings] };
}

/** Exception lists a rule names that were not provided (empty: the rule can run). */
export function missingExceptionLists(rule: RuleIR): string[] {
  return (rule.exceptionLists ?? []).filter((l) => !l.attached).map((l) => l.listId);
}

/** Why a rule naming lists that were not provided cannot run. */
export function missingListsReason(missing: string[]): string {
  return `needs exception list${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m}'`).join(', ')} named in exceptions_list (pass the Kibana export with --exceptions)`;
}

/**
 * Splits attached rules into those that can run and those naming lists that were not provided
 * (kept as unsupported, with the list ids in the reason).
 */
export function partitionByLists(rules: RuleIR[]): { rules: RuleIR[]; unsupported: UnsupportedRule[] } {
  const ok: RuleIR[] = [];
  const unsupported: UnsupportedRule[] = [];
  for (const r of rules) {
    const missing = missingExceptionLists(r);
    if (missing.length === 0) ok.push(r);
    else unsupported.push({ id: r.id, name: r.name, dialect: r.dialect, ruleType: r.ruleType, file: r.file, status: 'unsupported', reason: missingListsReason(missing) });
  }
  return { rules: ok, unsupported };
}
