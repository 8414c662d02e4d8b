/**
 * The enrichment sources of one run (scan, serve, watch), from flags and the config file:
 * MMDB files, the default country database, and a users file that is this run's directory,
 * in memory only (the stored directory, `users import` / `users sync`, is not changed).
 */
import { readUsers } from '../enrich/commands.js';
import { EnrichmentContext } from '../enrich/context.js';
import type { StateStore } from '../store/types.js';
import type { Config } from './config.js';

export interface EnrichmentFlags {
  users?: string;
  geoipCity?: string;
  geoipAsn?: string;
  geoipCountry?: string;
  defaultGeoip?: boolean;
  quiet?: boolean;
}

/**
 * `withUsers`: whether the command reads a users file (`--users` or the config's `users`);
 * `runName` words the note (`for this scan`).
 */
export function enrichmentFor(
  store: StateStore,
  flags: EnrichmentFlags,
  config: Config,
  err: (line: string) => void,
  opts: { withUsers: boolean; runName?: string },
): EnrichmentContext {
  const usersFile = opts.withUsers ? (flags.users ?? config.users) : undefined;
  const users = usersFile ? readUsers(usersFile, err).users : undefined;
  if (usersFile && users && !flags.quiet) err(`users: ${users.length} profiles from ${usersFile} (for this ${opts.runName ?? 'run'})`);
  return new EnrichmentContext({
    store,
    ...(users ? { users } : {}),
    geoipCity: flags.geoipCity ?? config.geoipCity,
    geoipAsn: flags.geoipAsn ?? config.geoipAsn,
    geoipCountry: flags.geoipCountry ?? config.geoipCountry,
    defaultGeo: flags.defaultGeoip !== false,
  });
}
