/** Exception lists as loaded from `--exceptions` files (src/exceptions/index.ts). */
import type { RuleException } from '../ir/types.js';
import type { FieldVocabulary } from './entries.js';

/**
 * Which rules an oktopus YAML list applies to. A string is `'*'` (every rule) or a glob over the
 * rule's id or name; a mapping ANDs its keys (each a glob: `id`, `name`, `tag`, `dialect`).
 * Globs use `*` and `?` and ignore case.
 */
export type RuleSelector = { all: true } | { id?: string; name?: string; tag?: string; dialect?: string; idOrName?: string };

export interface ExceptionList {
  /** Kibana `list_id` (what a rule's `exceptions_list` names), or the YAML list's `id`. */
  id: string;
  name?: string;
  description?: string;
  namespaceType: 'single' | 'agnostic';
  /** Kibana list type (`detection`, `rule_default`, `endpoint`…); `oktopus` for YAML lists. */
  type: string;
  /** The file it came from. */
  file: string;
  format: 'kibana' | 'oktopus';
  /** YAML lists: the rules it applies to. Kibana lists apply to the Elastic rules naming them. */
  selectors?: RuleSelector[];
  vocabulary: FieldVocabulary;
  /** The items that loaded (bad ones were reported and left out). */
  items: RuleException[];
}

export interface ExceptionLoadError {
  source: string;
  message: string;
}
