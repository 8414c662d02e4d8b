/**
 * concat(value, ...): the string forms of the values joined (booleans `true`/`false`, numbers in
 * shortest form). Any null argument makes the result null (Elasticsearch docs and the Python
 * engine agree); an argument that is not a scalar (an object, a Python list) also gives null.
 */
import { scalarString } from '../values.js';
import type { FunctionDef } from './types.js';

export const concat: FunctionDef = {
  name: 'concat',
  minArgs: 1,
  maxArgs: Infinity,
  caseSensitivity: 'none',
  restKind: 'primitive',
  fn: (args) => {
    let out = '';
    for (let i = 0; i < args.length; i++) {
      const s = scalarString(args[i]);
      if (s === undefined) return null;
      out += s;
    }
    return out;
  },
};
