/**
 * Offline geography: great-circle distance, country names ↔ ISO 3166-1 alpha-2 codes, and a
 * small gazetteer of country centroids (approximate geographic centres, ±1°, written for this
 * project) used when a location is known only to the country (a directory profile with a
 * country code and no coordinates, an MMDB with country records only).
 *
 * Names come from ICU (Intl.DisplayNames, built into Node), so "United States", "United
 * Kingdom", "Türkiye" and the other English names Okta writes in `geographicalContext.country`
 * map back to their codes without a table of our own.
 */

const EARTH_RADIUS_KM = 6371.0088;

/** Great-circle distance in km (haversine). */
export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

// ISO2 lat lon, one country per entry (approximate centroids; territories included where common).
const CENTROIDS_TEXT = `
AD 42.5 1.5|AE 23.9 54.2|AF 33.9 67.7|AG 17.1 -61.8|AI 18.2 -63.1|AL 41.1 20.0|AM 40.1 45.0|AO -11.2 17.9|AQ -75.3 0.1
AR -38.4 -63.6|AS -14.3 -170.7|AT 47.5 14.6|AU -25.3 133.8|AW 12.5 -70.0|AX 60.2 20.0|AZ 40.1 47.6|BA 43.9 17.7|BB 13.2 -59.5
BD 23.7 90.4|BE 50.5 4.5|BF 12.2 -1.6|BG 42.7 25.5|BH 26.0 50.6|BI -3.4 29.9|BJ 9.3 2.3|BL 17.9 -62.8|BM 32.3 -64.8
BN 4.5 114.7|BO -16.3 -63.6|BQ 12.2 -68.3|BR -14.2 -51.9|BS 25.0 -77.4|BT 27.5 90.4|BW -22.3 24.7|BY 53.7 28.0|BZ 17.2 -88.5
CA 56.1 -106.3|CD -4.0 21.8|CF 6.6 20.9|CG -0.2 15.8|CH 46.8 8.2|CI 7.5 -5.5|CK -21.2 -159.8|CL -35.7 -71.5|CM 7.4 12.4
CN 35.9 104.2|CO 4.6 -74.3|CR 9.7 -83.8|CU 21.5 -77.8|CV 16.0 -24.0|CW 12.2 -69.0|CY 35.1 33.4|CZ 49.8 15.5|DE 51.2 10.5
DJ 11.8 42.6|DK 56.3 9.5|DM 15.4 -61.4|DO 18.7 -70.2|DZ 28.0 1.7|EC -1.8 -78.2|EE 58.6 25.0|EG 26.8 30.8|EH 24.2 -12.9
ER 15.2 39.8|ES 40.5 -3.7|ET 9.1 40.5|FI 61.9 25.7|FJ -17.7 178.1|FK -51.8 -59.5|FM 7.4 150.6|FO 61.9 -6.9|FR 46.2 2.2
GA -0.8 11.6|GB 55.4 -3.4|GD 12.1 -61.7|GE 42.3 43.4|GF 3.9 -53.1|GG 49.5 -2.6|GH 7.9 -1.0|GI 36.1 -5.3|GL 71.7 -42.6
GM 13.4 -15.3|GN 9.9 -9.7|GP 16.3 -61.6|GQ 1.7 10.3|GR 39.1 21.8|GT 15.8 -90.2|GU 13.4 144.8|GW 11.8 -15.2|GY 4.9 -58.9
HK 22.4 114.1|HN 15.2 -86.2|HR 45.1 15.2|HT 19.0 -72.3|HU 47.2 19.5|ID -0.8 113.9|IE 53.4 -8.2|IL 31.0 34.9|IM 54.2 -4.5
IN 20.6 79.0|IQ 33.2 43.7|IR 32.4 53.7|IS 64.96 -19.0|IT 41.9 12.6|JE 49.2 -2.1|JM 18.1 -77.3|JO 30.6 36.2|JP 36.2 138.3
KE -0.02 37.9|KG 41.2 74.8|KH 12.6 105.0|KI 1.9 -157.4|KM -11.9 43.9|KN 17.4 -62.8|KP 40.3 127.5|KR 35.9 127.8|KW 29.3 47.5
KY 19.5 -80.6|KZ 48.0 66.9|LA 19.9 102.5|LB 33.9 35.9|LC 13.9 -61.0|LI 47.2 9.6|LK 7.9 80.8|LR 6.4 -9.4|LS -29.6 28.2
LT 55.2 23.9|LU 49.8 6.1|LV 56.9 24.6|LY 26.3 17.2|MA 31.8 -7.1|MC 43.7 7.4|MD 47.4 28.4|ME 42.7 19.4|MF 18.1 -63.1
MG -18.8 46.9|MH 7.1 171.2|MK 41.6 21.7|ML 17.6 -4.0|MM 21.9 95.96|MN 46.9 103.8|MO 22.2 113.5|MP 15.1 145.7|MQ 14.6 -61.0
MR 21.0 -10.9|MS 16.7 -62.2|MT 35.9 14.4|MU -20.3 57.6|MV 3.2 73.2|MW -13.3 34.3|MX 23.6 -102.6|MY 4.2 101.98|MZ -18.7 35.5
NA -22.96 18.5|NC -20.9 165.6|NE 17.6 8.1|NF -29.0 168.0|NG 9.1 8.7|NI 12.9 -85.2|NL 52.1 5.3|NO 60.5 8.5|NP 28.4 84.1
NR -0.5 166.9|NU -19.1 -169.9|NZ -40.9 174.9|OM 21.5 55.9|PA 8.5 -80.8|PE -9.2 -75.0|PF -17.7 -149.4|PG -6.3 143.96|PH 12.9 121.8
PK 30.4 69.3|PL 51.9 19.1|PM 46.9 -56.3|PR 18.2 -66.6|PS 31.9 35.2|PT 39.4 -8.2|PW 7.5 134.6|PY -23.4 -58.4|QA 25.4 51.2
RE -21.1 55.5|RO 45.9 24.97|RS 44.0 21.0|RU 61.5 105.3|RW -1.9 29.9|SA 23.9 45.1|SB -9.6 160.2|SC -4.7 55.5|SD 12.9 30.2
SE 60.1 18.6|SG 1.35 103.8|SH -24.1 -10.0|SI 46.2 14.99|SK 48.7 19.7|SL 8.5 -11.8|SM 43.9 12.5|SN 14.5 -14.5|SO 5.2 46.2
SR 3.9 -56.0|SS 6.9 31.3|ST 0.2 6.6|SV 13.8 -88.9|SX 18.0 -63.1|SY 34.8 39.0|SZ -26.5 31.5|TC 21.7 -71.8|TD 15.5 18.7
TG 8.6 0.8|TH 15.9 100.99|TJ 38.9 71.3|TK -8.97 -171.9|TL -8.9 125.7|TM 38.97 59.6|TN 33.9 9.5|TO -21.2 -175.2|TR 38.96 35.2
TT 10.7 -61.2|TV -7.1 177.6|TW 23.7 120.96|TZ -6.4 34.9|UA 48.4 31.2|UG 1.4 32.3|US 39.8 -98.6|UY -32.5 -55.8|UZ 41.4 64.6
VA 41.9 12.45|VC 12.98 -61.3|VE 6.4 -66.6|VG 18.4 -64.6|VI 18.3 -64.9|VN 14.1 108.3|VU -15.4 166.96|WF -13.8 -177.2|WS -13.8 -172.1
XK 42.6 20.9|YE 15.6 48.5|YT -12.8 45.2|ZA -30.6 22.9|ZM -13.1 27.8|ZW -19.0 29.2
`;

const CENTROIDS = new Map<string, { lat: number; lon: number }>();
for (const item of CENTROIDS_TEXT.split(/[|\n]/)) {
  const [cc, lat, lon] = item.trim().split(/\s+/);
  if (cc && lat && lon) CENTROIDS.set(cc, { lat: Number(lat), lon: Number(lon) });
}

/** Approximate centre of a country, by ISO 3166-1 alpha-2 code (any case). */
export function countryCentroid(code: string): { lat: number; lon: number } | undefined {
  return CENTROIDS.get(code.toUpperCase());
}

export function knownCountryCodes(): string[] {
  return [...CENTROIDS.keys()];
}

let byName: Map<string, string> | undefined;

function nameIndex(): Map<string, string> {
  if (byName) return byName;
  byName = new Map();
  const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
  const shortNames = new Intl.DisplayNames(['en'], { type: 'region', style: 'short', fallback: 'none' });
  for (const cc of CENTROIDS.keys()) {
    for (const n of [names.of(cc), shortNames.of(cc)]) if (n) byName.set(n.toLowerCase(), cc);
  }
  // Names Okta and geo databases write that ICU spells otherwise.
  const extra: Record<string, string> = {
    'united states of america': 'US', usa: 'US', 'great britain': 'GB', england: 'GB', 'russian federation': 'RU',
    'republic of korea': 'KR', 'korea, republic of': 'KR', 'south korea': 'KR', 'north korea': 'KP', turkey: 'TR',
    'czech republic': 'CZ', 'viet nam': 'VN', 'iran, islamic republic of': 'IR', 'taiwan, province of china': 'TW',
    'hong kong sar china': 'HK', 'macao sar china': 'MO', 'the netherlands': 'NL', 'holland': 'NL', 'ivory coast': 'CI',
    'democratic republic of the congo': 'CD', 'republic of the congo': 'CG', 'swaziland': 'SZ', 'burma': 'MM',
    'macedonia': 'MK', 'cape verde': 'CV', 'east timor': 'TL', 'palestine': 'PS',
  };
  for (const [n, cc] of Object.entries(extra)) byName.set(n, cc);
  return byName;
}

/** ISO code for a country given as a code (`US`, `us`) or an English name (`United States`). */
export function countryCode(value: string | undefined | null): string | undefined {
  if (!value) return undefined;
  const v = value.trim();
  if (/^[A-Za-z]{2}$/.test(v)) {
    const cc = v.toUpperCase();
    return CENTROIDS.has(cc) ? cc : undefined;
  }
  return nameIndex().get(v.toLowerCase());
}

let displayNames: Intl.DisplayNames | undefined;

/** English country name for an ISO code. */
export function countryName(code: string): string | undefined {
  try {
    displayNames ??= new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    return displayNames.of(code.toUpperCase()) ?? undefined;
  } catch {
    return undefined;
  }
}

// ── First-level subdivisions (states, provinces, nations, Länder) ─────────────────────────────
//
// Written for this project, for the countries where sign-ins and directories most often name a
// state: approximate centre (±0.5°) and reach (km, rounded up: about the farthest the region's
// edge is from that centre, so a place known only by its region is within `reach` of the
// centre). Entry: `CC CODE lat lon reach Name[/Alias…]`; CODE is the ISO 3166-2 suffix (or the
// postal abbreviation where they are the same). Looked up by code (`NY`, `US-NY`) or name, any
// case, accents ignored.
const REGIONS_TEXT = `
US AL 32.8 -86.8 350 Alabama|US AK 64.0 -152.0 1500 Alaska|US AZ 34.3 -111.7 400 Arizona|US AR 34.9 -92.4 300 Arkansas
US CA 37.2 -119.5 650 California|US CO 39.0 -105.5 350 Colorado|US CT 41.6 -72.7 100 Connecticut|US DE 39.0 -75.5 120 Delaware
US DC 38.9 -77.03 15 District of Columbia/Washington, D.C./Washington DC|US FL 28.6 -82.4 600 Florida|US GA 32.7 -83.4 350 Georgia
US HI 20.3 -156.4 450 Hawaii|US ID 44.4 -114.6 520 Idaho|US IL 40.0 -89.2 350 Illinois|US IN 39.9 -86.3 250 Indiana
US IA 42.1 -93.5 300 Iowa|US KS 38.5 -98.4 350 Kansas|US KY 37.5 -85.3 400 Kentucky|US LA 31.0 -92.0 350 Louisiana
US ME 45.4 -69.2 300 Maine|US MD 39.0 -76.8 250 Maryland|US MA 42.3 -71.8 200 Massachusetts|US MI 44.3 -85.4 500 Michigan
US MN 46.3 -94.3 450 Minnesota|US MS 32.7 -89.7 300 Mississippi|US MO 38.4 -92.5 350 Missouri|US MT 47.0 -109.6 550 Montana
US NE 41.5 -99.8 400 Nebraska|US NV 39.3 -116.6 550 Nevada|US NH 43.7 -71.6 180 New Hampshire|US NJ 40.2 -74.7 170 New Jersey
US NM 34.4 -106.1 400 New Mexico|US NY 42.9 -75.5 400 New York|US NC 35.5 -79.4 480 North Carolina|US ND 47.4 -100.5 400 North Dakota
US OH 40.3 -82.8 300 Ohio|US OK 35.6 -97.5 520 Oklahoma|US OR 43.9 -120.6 450 Oregon|US PA 40.9 -77.8 350 Pennsylvania
US RI 41.7 -71.5 60 Rhode Island|US SC 33.9 -80.9 300 South Carolina|US SD 44.4 -100.2 400 South Dakota|US TN 35.9 -86.4 450 Tennessee
US TX 31.5 -99.3 750 Texas|US UT 39.3 -111.7 400 Utah|US VT 44.1 -72.7 180 Vermont|US VA 37.5 -78.9 450 Virginia
US WA 47.4 -120.5 400 Washington|US WV 38.6 -80.6 250 West Virginia|US WI 44.6 -89.9 350 Wisconsin|US WY 43.0 -107.5 400 Wyoming
CA AB 55.0 -115.0 700 Alberta|CA BC 54.0 -125.0 1000 British Columbia|CA MB 55.0 -97.0 800 Manitoba|CA NB 46.6 -66.4 250 New Brunswick
CA NL 53.1 -57.7 1000 Newfoundland and Labrador/Newfoundland|CA NS 45.0 -63.0 350 Nova Scotia|CA ON 50.0 -85.0 900 Ontario
CA PE 46.4 -63.2 120 Prince Edward Island|CA QC 52.0 -72.0 1200 Quebec/Québec|CA SK 54.0 -106.0 700 Saskatchewan
CA NT 64.8 -119.0 1200 Northwest Territories|CA NU 70.0 -90.0 2000 Nunavut|CA YT 63.6 -135.8 600 Yukon
GB ENG 52.6 -1.5 420 England/EN|GB SCT 56.8 -4.2 450 Scotland/SC|GB WLS 52.4 -3.8 150 Wales/WA|GB NIR 54.6 -6.7 100 Northern Ireland/NI
IE L 53.2 -7.0 130 Leinster|IE M 52.3 -8.7 170 Munster|IE C 53.7 -9.0 130 Connacht/Connaught|IE U 54.8 -7.7 100 Ulster
DE BW 48.6 9.0 170 Baden-Württemberg|DE BY 48.9 11.4 250 Bavaria/Bayern|DE BE 52.52 13.4 25 Berlin|DE BB 52.4 13.0 170 Brandenburg
DE HB 53.1 8.8 60 Bremen|DE HH 53.55 10.0 25 Hamburg|DE HE 50.6 9.0 150 Hesse/Hessen|DE MV 53.8 12.6 200 Mecklenburg-Vorpommern/Mecklenburg-Western Pomerania
DE NI 52.8 9.1 250 Lower Saxony/Niedersachsen|DE NW 51.5 7.6 170 North Rhine-Westphalia/Nordrhein-Westfalen|DE RP 49.9 7.4 150 Rhineland-Palatinate/Rheinland-Pfalz
DE SL 49.4 6.95 40 Saarland|DE SN 51.0 13.3 150 Saxony/Sachsen|DE ST 52.0 11.7 150 Saxony-Anhalt/Sachsen-Anhalt
DE SH 54.2 9.7 150 Schleswig-Holstein|DE TH 50.9 11.0 120 Thuringia/Thüringen
AU NSW -32.2 147.0 800 New South Wales|AU VIC -36.9 144.3 450 Victoria|AU QLD -22.5 144.5 1300 Queensland|AU SA -30.0 135.8 900 South Australia
AU WA -25.5 122.0 1300 Western Australia|AU TAS -42.0 146.6 250 Tasmania|AU NT -19.4 133.4 900 Northern Territory|AU ACT -35.5 149.0 50 Australian Capital Territory
`;

// Countries small enough that knowing the country places an address within `reach` km of its
// centroid (whatever region they name): they count as region precision.
const SMALL_COUNTRIES_TEXT = 'SG 30|HK 40|MO 10|LU 60|MC 5|SM 15|VA 2|LI 20|AD 20|MT 40|BH 40|GI 5|JE 15|GG 15|IM 35|BB 25|KY 60';

export interface Region {
  lat: number;
  lon: number;
  /** How far the region's edge may be from lat/lon, in km. */
  reachKm: number;
}

const fold = (s: string): string => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[.\s]+/g, ' ').trim();

const REGIONS = new Map<string, Region>();
for (const item of REGIONS_TEXT.split(/[|\n]/)) {
  const m = /^\s*([A-Z]{2}) (\w+) (-?[\d.]+) (-?[\d.]+) (\d+) (.+?)\s*$/.exec(item);
  if (!m) continue;
  const r: Region = { lat: Number(m[3]), lon: Number(m[4]), reachKm: Number(m[5]) };
  for (const k of [m[2]!, ...m[6]!.split('/')]) REGIONS.set(`${m[1]}:${fold(k)}`, r);
}
const SMALL = new Map<string, number>();
for (const item of SMALL_COUNTRIES_TEXT.split('|')) {
  const [cc, reach] = item.split(' ');
  SMALL.set(cc!, Number(reach));
}

/**
 * A first-level subdivision of a country (`US` + `New York`, `NY` or `US-NY`), or the whole of a
 * small country (Singapore, Luxembourg, …) whatever region is named; undefined when unknown.
 */
export function regionOf(cc: string | undefined | null, region: string | undefined | null): Region | undefined {
  if (!cc) return undefined;
  const c = cc.toUpperCase();
  const small = SMALL.get(c);
  if (small !== undefined) {
    const centre = CENTROIDS.get(c);
    return centre ? { ...centre, reachKm: small } : undefined;
  }
  if (!region) return undefined;
  let key = fold(region);
  if (key.startsWith(c.toLowerCase() + '-')) key = key.slice(3);
  return REGIONS.get(`${c}:${key}`);
}

/** Countries with a table of regions (docs/enrichment.md). */
export function regionCountries(): string[] {
  return [...new Set([...REGIONS.keys()].map((k) => k.slice(0, 2)))];
}

/** How precisely a location is known, finest first. */
export type Precision = 'point' | 'city' | 'region' | 'country';
const RANK: Record<string, number> = { point: 0, city: 1, region: 2, country: 3 };

export interface Located {
  lat: number;
  lon: number;
  precision: string;
  /** For `region`: how far the real place may be from lat/lon. */
  uncertainty_km?: number | null;
}

/**
 * Distance between two located places, when both are known to at least region precision: a
 * `region` end makes it a lower bound (the centre distance minus each region's reach, never below
 * 0), so "far" stays far whichever part of the region the user is in. Undefined when either end
 * is known only to its country.
 */
export function placeDistance(a: Located, b: Located): { km: number; precision: Precision } | undefined {
  const ra = RANK[a.precision] ?? 3;
  const rb = RANK[b.precision] ?? 3;
  const worst = Math.max(ra, rb);
  if (worst > 2) return undefined;
  let km = haversineKm(a.lat, a.lon, b.lat, b.lon);
  if (worst === 2) km = Math.max(0, km - (a.precision === 'region' ? a.uncertainty_km ?? 0 : 0) - (b.precision === 'region' ? b.uncertainty_km ?? 0 : 0));
  return { km: Math.round(km), precision: (['point', 'city', 'region'] as const)[worst]! };
}
