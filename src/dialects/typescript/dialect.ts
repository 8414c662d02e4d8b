/**
 * Rules written as TypeScript/JavaScript modules (Panther's function set: rule, title, dedup…).
 * Recognised here so they are listed by name; running them arrives with the Panther issue.
 */
import { basename } from 'node:path';
import type { DialectModule } from '../types.js';

export const dialect: DialectModule = {
  name: 'typescript',
  extensions: ['.ts', '.mts', '.js', '.mjs'],
  recognise: (text) => /export\s+(function|const|async\s+function)\s+rule\b/.test(text),
  parse(text, file) {
    const id = /RuleID\s*[:=]\s*['"]([^'"]+)['"]/.exec(text)?.[1] ?? basename(file).replace(/\.[^.]+$/, '');
    return {
      rules: [],
      unsupported: [
        { id, name: id, dialect: 'typescript', ruleType: 'module', file, status: 'unsupported', reason: 'not yet supported: typescript/module' },
      ],
    };
  },
};
