/**
 * The enrichment context: the sources enrichment reads (imported lists, MMDB files, the user
 * directory), created once per run and handed to the schemas through `SchemaContext.enrichment`.
 * Without one, enrichment uses Okta's own fields only (securityContext, geographicalContext).
 */
import type { StateStore } from '../store/types.js';
import { IntelIndex } from './intel.js';
import { MmdbFile, defaultCountryDb } from './mmdb.js';
import { UserDirectory, type UserProfile } from './users.js';
import type { BaselineOptions } from './baseline.js';

export interface EnrichmentOptions {
  /** Where imported lists and user profiles are read from. */
  store?: StateStore;
  /** User profiles for this run only (`scan --users FILE`): used instead of the stored directory. */
  users?: readonly UserProfile[];
  /** The user's GeoIP2/GeoLite2 City (or Country) MMDB. */
  geoipCity?: string;
  /** The user's GeoIP2/GeoLite2 ASN MMDB. */
  geoipAsn?: string;
  /** A country MMDB; default: the one shipped through npm (unless `defaultGeo` is false). */
  geoipCountry?: string;
  defaultGeo?: boolean;
  /** User-baseline settings (retention, caps, travel thresholds): src/enrich/baseline.ts. */
  baseline?: Partial<BaselineOptions>;
  /**
   * No enrichment at all: enrichment fields read as absent (unless the event carries them), no
   * user baselines, alerts without enrichment blocks. The bench's reference run.
   */
  disabled?: boolean;
}

let nextId = 0;

export class EnrichmentContext {
  /** Distinguishes the per-event cache entries of two contexts (tests use several). */
  readonly id = ++nextId;
  readonly users: UserDirectory;
  readonly city?: MmdbFile;
  readonly asnDb?: MmdbFile;
  readonly store?: StateStore;
  readonly disabled: boolean;
  /** User-baseline settings (defaults: DEFAULT_BASELINE_OPTIONS). */
  readonly baselineOptions?: Partial<BaselineOptions>;
  private country?: MmdbFile | null;
  private readonly countryPath?: string;
  private intelIndex?: IntelIndex;
  /** Per-address facts from the lists and MMDBs (the same for every event): bounded memo. */
  readonly ipMemo = new Map<string, unknown>();

  /** Opens the MMDB files given (a bad file is an EnrichInputError naming it). */
  constructor(opts: EnrichmentOptions = {}) {
    this.store = opts.store;
    this.disabled = opts.disabled === true;
    if (opts.baseline) this.baselineOptions = opts.baseline;
    this.users = new UserDirectory(opts.store, opts.users);
    if (opts.geoipCity) this.city = new MmdbFile(opts.geoipCity, '--geoip-city', 'geo');
    if (opts.geoipAsn) this.asnDb = new MmdbFile(opts.geoipAsn, '--geoip-asn', 'asn');
    if (opts.geoipCountry) this.country = new MmdbFile(opts.geoipCountry, '--geoip-country', 'geo');
    else if (opts.defaultGeo) this.countryPath = defaultCountryDb();
  }

  /** Okta's own fields only: no lists, no MMDB, no directory. */
  static readonly NONE = new EnrichmentContext();

  get intel(): IntelIndex {
    if (!this.intelIndex) this.intelIndex = this.store ? IntelIndex.fromStore(this.store) : new IntelIndex();
    return this.intelIndex;
  }

  /** The country database, opened at first use (the shipped default is ~8 MB). */
  get countryDb(): MmdbFile | undefined {
    if (this.country === undefined) this.country = this.countryPath ? new MmdbFile(this.countryPath, 'default country database', 'geo') : null;
    return this.country ?? undefined;
  }

  /** Describe the sources in use (for `scan` notes). */
  describe(): string[] {
    const out: string[] = [];
    if (this.city) out.push(`geolocation: ${this.city.path} (${this.city.databaseType})`);
    if (this.asnDb) out.push(`ASN: ${this.asnDb.path} (${this.asnDb.databaseType})`);
    if (this.country) out.push(`country: ${this.country.path}`);
    else if (this.countryPath) out.push('country: shipped default (@ip-location-db/geo-whois-asn-country-mmdb)');
    for (const v of this.intel.versions) out.push(`list ${v.kind}${v.category ? `:${v.category}` : ''} v${v.version} of ${v.imported.slice(0, 10)}: ${v.entries} entries`);
    return out;
  }
}
