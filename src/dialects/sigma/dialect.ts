/** Sigma rules (YAML, spec 2.1): detection rules and correlation rules. */
import type { DialectModule } from '../types.js';
import { parseSigmaText } from './index.js';

export const dialect: DialectModule = {
  name: 'sigma',
  extensions: ['.yml', '.yaml'],
  recognise: (text) => (/^logsource\s*:/m.test(text) && /^detection\s*:/m.test(text)) || /^correlation\s*:/m.test(text),
  parse: (text, file, options) => parseSigmaText(text, file, { placeholders: options.placeholders }),
};
