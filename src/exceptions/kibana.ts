/**
 * Kibana's exception-list export (`POST /api/exception_lists/_export`, also the lists and items a
 * rule export appends), NDJSON, read unchanged:
 *   - list containers: `list_id`, `name`, `description`, `type` (detection, rule_default,
 *     endpoint…), `namespace_type`, and no `item_id`;
 *   - items: `item_id`, `list_id`, `name`, `entries`, `namespace_type`, `expire_time`, `os_types`…;
 *   - the export summary (`exported_exception_list_count`…, or a rule export's `exported_count`).
 * Rule lines of a rule export (`rule_id`) are not lists and are passed over (rules are loaded
 * with --rules). `os_types` scopes an item to a host OS: Kibana ANDs a `host.os.type` condition
 * to the item, which Okta events never satisfy (index.ts warns and leaves such an item out).
 * Every bad line is reported with its number (never its text: the file may hold anything); the
 * others are kept.
 */
import { jsonErrorReason } from '../sources/files.js';
import { checkExpireTime, checkOsTypes, namespaceOf, type Drafts, type ListDraft } from './drafts.js';

type Obj = Record<string, unknown>;

export function readKibanaExport(text: string, file: string, out: Drafts): void {
  const lists = new Map<string, ListDraft>();
  const key = (id: string, ns: string) => `${ns}\u0000${id}`;
  const listFor = (id: string, ns: 'single' | 'agnostic', at: string): ListDraft => {
    let l = lists.get(key(id, ns));
    if (!l) {
      // An item may come before its container, or (in a hand-made file) without one.
      l = { id, namespaceType: ns, type: 'detection', file, at, format: 'kibana', vocabulary: 'ecs', items: [] };
      lists.set(key(id, ns), l);
    }
    return l;
  };
  // A file that is not an exception export at all (a log, a rule) would give an error per line:
  // the first few are shown, then one line with the count.
  const LIMIT = 10;
  let problems = 0;
  const errors = { push(e: { source: string; message: string }) {
    problems++;
    if (problems <= LIMIT) out.errors.push(e);
  } };
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const at = `${file}:${i + 1}`;
    let doc: unknown;
    try {
      doc = JSON.parse(line);
    } catch (e) {
      errors.push({ source: at, message: `${at}: ${jsonErrorReason(line, e)}` });
      return;
    }
    if (!doc || typeof doc !== 'object' || Array.isArray(doc)) {
      errors.push({ source: at, message: `${at}: not an exception list, item or export summary` });
      return;
    }
    const o = doc as Obj;
    if ('exported_exception_list_count' in o || 'exported_count' in o || 'exported_rules_count' in o) return; // the summary
    if ('rule_id' in o) return; // a rule of a rule export
    try {
      const listId = o['list_id'];
      if (typeof listId !== 'string' || listId === '') throw new Error('no list_id');
      const ns = namespaceOf(o['namespace_type']);
      if (o['item_id'] === undefined && o['entries'] === undefined) {
        const l = listFor(listId, ns, at);
        if (typeof o['name'] === 'string') l.name = o['name'];
        if (typeof o['description'] === 'string') l.description = o['description'];
        if (typeof o['type'] === 'string') l.type = o['type'];
        return;
      }
      const itemId = typeof o['item_id'] === 'string' ? o['item_id'] : typeof o['id'] === 'string' ? o['id'] : undefined;
      if (!itemId) throw new Error('an item needs an item_id');
      const where = `${at}: list '${listId}' item '${itemId}'`;
      let expireTime: string | undefined;
      let osTypes: string[];
      try {
        expireTime = checkExpireTime(o['expire_time']);
        osTypes = checkOsTypes(o['os_types']);
      } catch (e) {
        errors.push({ source: at, message: `${where}: ${(e as Error).message}` });
        return;
      }
      listFor(listId, ns, at).items.push({
        id: itemId,
        name: typeof o['name'] === 'string' ? o['name'] : itemId,
        entries: o['entries'],
        expireTime,
        osTypes,
        where,
        source: at,
      });
    } catch (e) {
      errors.push({ source: at, message: `${at}: ${(e as Error).message}` });
    }
  });
  if (problems > LIMIT) out.errors.push({ source: file, message: `${file}: ${problems - LIMIT} more problems not shown (${problems} in all; is it a Kibana exception-list export?)` });
  out.lists.push(...lists.values());
}
