/**
 * Purpose rules: which purposes an operator action or a hotlist entry may serve.
 *
 * Refusal is by rule, not by guessing: a purpose is a structured code from an allow-list
 * ({@link ALLOWED_PURPOSES}); an unknown code is refused, and so is a forbidden one. Free text
 * (reason, notes, list type) is then checked against keyword rules ({@link TEXT_RULES}) as a
 * second net, so that a permitted code cannot carry a forbidden purpose in its description.
 * Nothing here throws: every check returns a {@link PurposeCheck}; {@link assertPurpose}
 * wraps it for callers that throw. The rule table is documented in docs/audit.md.
 */
import { PurposeRefusedError } from '../errors.js';

/** Purposes the policies forbid (Englewood PD 425.5 (f)-(j), El Centro PD 464.7.1). */
export const FORBIDDEN_CATEGORIES = [
  'CIVIL_IMMIGRATION',
  'HEALTHCARE_TRACKING',
  'FIRST_AMENDMENT',
  'PROTECTED_CLASS',
  'PERSONAL_USE',
] as const;
export type ForbiddenCategory = (typeof FORBIDDEN_CATEGORIES)[number];

/**
 * Every category a refusal can name: a forbidden purpose, a purpose that is not on the
 * allow-list (`UNAUTHORIZED_PURPOSE`), or a missing purpose, case number or list type
 * (`UNDOCUMENTED`).
 */
export type RefusalCategory = ForbiddenCategory | 'UNAUTHORIZED_PURPOSE' | 'UNDOCUMENTED';

/** Stable codes of refusals; callers switch on these. */
export type RefusalCode =
  | 'FORBIDDEN_PURPOSE' // the purpose code is itself a forbidden category
  | 'UNKNOWN_PURPOSE' // the purpose code is not on the allow-list
  | 'MISSING_PURPOSE'
  | 'MISSING_CASE' // an investigative purpose (or a caller requiring one) without a case number
  | 'INVALID_CASE'
  | 'FORBIDDEN_TEXT' // reason, notes or list type name a forbidden purpose
  | 'FORBIDDEN_LIST_TYPE' // the list type is itself a forbidden purpose
  | 'MISSING_LIST_TYPE';

/** The result of a check: no exceptions on this path. */
export type PurposeCheck =
  | { ok: true; purpose?: PurposeCode }
  | { ok: false; category: RefusalCategory; code: RefusalCode; reason: string; citation: string };

/** A refused check. */
export type PurposeRefusal = Extract<PurposeCheck, { ok: false }>;

/** Policy citations, one place. Files are in /policies (see its README). */
export const CITATIONS = {
  CIVIL_IMMIGRATION: 'Englewood PD Policy 425.5(f): ALPR data shall not be used for the purpose of civil immigration enforcement',
  HEALTHCARE_TRACKING:
    'Englewood PD Policy 425.5(h): ALPR data shall not be used to target or track the movement of vehicles traveling to or from healthcare facilities',
  FIRST_AMENDMENT:
    'Englewood PD Policy 425.5(i): ALPR data shall not be used for the purpose of monitoring activities protected by the First Amendment',
  PROTECTED_CLASS:
    'Englewood PD Policy 425.5(g): ALPR technology and data shall not be used to target any person solely based on a protected class',
  PERSONAL_USE:
    'Englewood PD Policy 425.5(j); El Centro PD Policy 464.7.1(b),(c): no personal use, harassment or intimidation',
  UNAUTHORIZED_PURPOSE:
    'Englewood PD Policy 425.3(a), 425.5(c); El Centro PD Policy 464.7(a): official and legitimate law enforcement purposes only',
  UNDOCUMENTED_PURPOSE:
    'Lakewood PD PP-9126 B.6: the reason for any query must be documented; El Centro PD Policy 464.5(4): the purpose is logged',
  UNDOCUMENTED_CASE:
    'El Centro PD Policy 464.10(b); Clear Creek County SO Policy 424.5(c): access relates to a specific criminal investigation or action',
} as const;

/** One allowed purpose. `investigative` purposes need a case number. */
export interface PurposeInfo {
  description: string;
  investigative: boolean;
}

/**
 * The allow-list. Recovery purposes driven by a hotlist record (a stolen vehicle, a wanted or
 * missing person) do not need a case number of their own; investigative purposes do.
 */
export const ALLOWED_PURPOSES = {
  STOLEN_VEHICLE: { description: 'recovery of a stolen vehicle', investigative: false },
  STOLEN_PLATE: { description: 'recovery of a stolen license plate', investigative: false },
  WANTED_PERSON: { description: 'a person with an active warrant', investigative: false },
  MISSING_PERSON: { description: 'a missing person', investigative: false },
  AMBER_ALERT: { description: 'an AMBER alert (abducted child)', investigative: false },
  SILVER_ALERT: { description: 'a SILVER alert (missing endangered adult)', investigative: false },
  PROTECTION_ORDER: { description: 'enforcement of a protection order', investigative: false },
  SUPERVISED_RELEASE: { description: 'a person on supervised release', investigative: false },
  BOLO: { description: 'a be-on-the-lookout issued for a criminal matter', investigative: true },
  FELONY_INVESTIGATION: { description: 'a felony investigation', investigative: true },
  HOMICIDE: { description: 'a homicide investigation', investigative: true },
  SHOOTING: { description: 'a shooting investigation', investigative: true },
  ROBBERY: { description: 'a robbery investigation', investigative: true },
  ASSAULT: { description: 'an assault investigation', investigative: true },
  SEXUAL_ASSAULT: { description: 'a sexual assault investigation', investigative: true },
  KIDNAPPING: { description: 'a kidnapping or abduction investigation', investigative: true },
  BURGLARY: { description: 'a burglary investigation', investigative: true },
  VEHICLE_THEFT: { description: 'a vehicle theft investigation', investigative: true },
  HIT_AND_RUN: { description: 'a hit-and-run investigation', investigative: true },
  HUMAN_TRAFFICKING: { description: 'a human trafficking investigation', investigative: true },
  NARCOTICS: { description: 'a narcotics investigation', investigative: true },
  FRAUD: { description: 'a fraud investigation', investigative: true },
  TERRORISM: { description: 'a terrorism or homeland security investigation', investigative: true },
  OTHER_CRIMINAL_INVESTIGATION: { description: 'another criminal investigation', investigative: true },
  INTERNAL_AFFAIRS: { description: 'an internal affairs or personnel matter (Lakewood C.4.c)', investigative: true },
  CIVIL_LITIGATION: { description: 'a civil suit or lawful action to produce records', investigative: true },
  SYSTEM_AUDIT: { description: 'an audit of the ALPR system by its administrator', investigative: false },
} as const satisfies Record<string, PurposeInfo>;

/** An allowed purpose code. */
export type PurposeCode = keyof typeof ALLOWED_PURPOSES;

/** The documented list types (docs/contracts.md "Hotlist entry"); any other well-formed code is a local list and passes unless forbidden. */
export const STANDARD_LIST_TYPES = [
  'STOLEN_VEHICLE',
  'STOLEN_PLATE',
  'WANTED',
  'MISSING_PERSON',
  'AMBER',
  'SILVER',
  'FELONY_VEHICLE',
  'PROTECTION_ORDER',
  'BOLO',
] as const;

/** Purpose or list codes that are a forbidden category themselves (after {@link normalizeCode}). */
export const FORBIDDEN_CODES: Readonly<Record<string, ForbiddenCategory>> = {
  CIVIL_IMMIGRATION: 'CIVIL_IMMIGRATION',
  IMMIGRATION: 'CIVIL_IMMIGRATION',
  IMMIGRATION_ENFORCEMENT: 'CIVIL_IMMIGRATION',
  IMMIGRATION_STATUS: 'CIVIL_IMMIGRATION',
  IMMIGRATION_DETAINER: 'CIVIL_IMMIGRATION',
  ICE: 'CIVIL_IMMIGRATION',
  ICE_DETAINER: 'CIVIL_IMMIGRATION',
  ICE_HOLD: 'CIVIL_IMMIGRATION',
  ICE_ERO: 'CIVIL_IMMIGRATION',
  DEPORTATION: 'CIVIL_IMMIGRATION',
  REMOVAL_ORDER: 'CIVIL_IMMIGRATION',
  VISA_OVERSTAY: 'CIVIL_IMMIGRATION',
  UNDOCUMENTED: 'CIVIL_IMMIGRATION',
  HEALTHCARE_TRACKING: 'HEALTHCARE_TRACKING',
  HEALTHCARE: 'HEALTHCARE_TRACKING',
  CLINIC_VISITS: 'HEALTHCARE_TRACKING',
  REPRODUCTIVE_HEALTH: 'HEALTHCARE_TRACKING',
  ABORTION: 'HEALTHCARE_TRACKING',
  FIRST_AMENDMENT: 'FIRST_AMENDMENT',
  PROTEST: 'FIRST_AMENDMENT',
  PROTESTERS: 'FIRST_AMENDMENT',
  PROTESTORS: 'FIRST_AMENDMENT',
  DEMONSTRATORS: 'FIRST_AMENDMENT',
  ACTIVISTS: 'FIRST_AMENDMENT',
  PROTECTED_CLASS: 'PROTECTED_CLASS',
  PROFILING: 'PROTECTED_CLASS',
  PERSONAL_USE: 'PERSONAL_USE',
  PERSONAL: 'PERSONAL_USE',
};

/** One keyword rule of the second net. */
export interface TextRule {
  category: ForbiddenCategory;
  /** What the rule catches, for messages and docs/audit.md. */
  label: string;
  pattern: RegExp;
}

// Context words: a facility or venue alone is not a purpose ("shooting near the hospital" is a
// crime scene); attending, visiting or tracking people there is.
const TRACK = String.raw`(?:visit(?:s|ed|ing|ors?)?|track(?:s|ed|ing)?|monitor(?:s|ed|ing)?|surveil\w*|watch(?:ing)?|going\s+to|goes\s+to|went\s+to|trips?\s+to|travel(?:l?ing|l?ed)?\s+(?:to|from)|to\s+and\s+from|to\s*/\s*from|patients?|attend(?:s|ed|ing|ees?)?|congregants?|congregation|worshippers?|members\s+of|who\s+(?:visit|go|goes|attend)\w*|list\s+of\s+(?:cars|vehicles|plates))`;
const GAP = String.raw`(?:\W+\w+){0,4}?\W+`;
const FACILITY = String.raw`(?:clinics?|hospitals?|abortion|reproductive\s+(?:health|care)|planned\s+parenthood|mental\s+health|behaviou?ral\s+health|psychiatric|rehab(?:ilitation)?|detox|methadone|health\s*care\s+(?:facility|facilities|center|centre|provider)s?|medical\s+(?:center|centre|office|facility)s?|doctor'?s?\s+office)`;
const VENUE = String.raw`(?:churche?s?|mosques?|synagogues?|temples?|places?\s+of\s+worship|worship\s+services?|religious\s+services?|union\s+halls?|political\s+(?:meetings?|events?|rall(?:y|ies)))`;
const CLASS = String.raw`(?:race|racial|ethnic\w*|national\s+origin|religion|religious|creed|skin\s+colou?r|citizenship|sexual\s+orientation|gender\s+(?:identity|expression)|sex(?!\s*offend)|marital\s+status|disabilit\w+|veteran|ancestry)`;
const GROUP = String.raw`(?:muslims?|jews?|jewish|christians?|sikhs?|hindus?|hispanics?|latin[oaxe]s?|mexicans?|immigrants?|migrants?|refugees?|gays?|lesbians?|transgender|trans\s+(?:people|persons?|drivers?)|lgbtq?\+?|queer)`;
const TARGET = String.raw`(?:target(?:s|ed|ing)?|profil(?:e|es|ed|ing)|track(?:s|ed|ing)?|monitor(?:s|ed|ing)?|identify(?:ing)?|find(?:ing)?|flag(?:s|ged|ging)?|because\s+of|based\s+on|on\s+account\s+of|due\s+to|by\s+their)`;
const PEOPLE = String.raw`(?:ex|ex-?(?:wife|husband|partner|girlfriend|boyfriend|spouse)|wife|husband|partner|girlfriend|boyfriend|spouse|neighbou?rs?|friends?|relatives?|family|son|daughter|mother|father|mom|dad|brother|sister|landlord|tenant|co-?workers?|boss|date)`;

function rule(category: ForbiddenCategory, label: string, source: string, flags = 'i'): TextRule {
  return { category, label, pattern: new RegExp(source, flags) };
}

/** The keyword rules, in the order they are tried. The first match decides the category. */
export const TEXT_RULES: readonly TextRule[] = [
  rule('CIVIL_IMMIGRATION', 'immigration', String.raw`\bimmigra(?:tion|nts?)\b`),
  rule('CIVIL_IMMIGRATION', 'ICE (Immigration and Customs Enforcement)', String.raw`\b(?:ICE|I\.C\.E\.?|ERO)\b`, ''),
  rule('CIVIL_IMMIGRATION', 'deportation', String.raw`\bdeport(?:s|ed|ing|ation|able)?\b`),
  rule('CIVIL_IMMIGRATION', 'visa overstay', String.raw`\b(?:visa\s+overstay\w*|overstay(?:s|ed|ing)?\s+(?:\w+\s+)?visas?)\b`),
  rule('CIVIL_IMMIGRATION', 'immigration status', String.raw`\b(?:undocumented|illegal\s+(?:aliens?|immigrants?)|removal\s+orders?|immigration\s+status)\b`),
  rule('HEALTHCARE_TRACKING', 'visits to a healthcare facility', String.raw`\b${TRACK}${GAP}${FACILITY}\b`),
  rule('HEALTHCARE_TRACKING', 'visits to a healthcare facility', String.raw`\b${FACILITY}${GAP}${TRACK}\b`),
  rule('FIRST_AMENDMENT', 'protest, rally or demonstration', String.raw`\b(?:protest(?:s|ed|ers?|ors?|ing)?|rall(?:y|ies)|demonstrations?|demonstrators?|picket(?:s|ers?|ing|\s+lines?)?|sit-?ins?|activists?)\b`),
  rule('FIRST_AMENDMENT', 'union or political meeting', String.raw`\b(?:union|political|campaign)\s+(?:meetings?|events?|gatherings?)\b`),
  rule('FIRST_AMENDMENT', 'attendance at a place of worship', String.raw`\b${TRACK}${GAP}${VENUE}\b`),
  rule('FIRST_AMENDMENT', 'attendance at a place of worship', String.raw`\b${VENUE}${GAP}${TRACK}\b`),
  rule('PROTECTED_CLASS', 'racial or religious profiling', String.raw`\b(?:racial(?:ly)?|religious|ethnic)\s+profil\w*\b`),
  rule('PROTECTED_CLASS', 'targeting by a protected class', String.raw`\b${TARGET}(?:\W+\w+){0,3}?\W+(?:(?:their|his|her|the\s+driver'?s?)\W+)?${CLASS}\b`),
  rule('PROTECTED_CLASS', 'targeting a protected group', String.raw`\b${TARGET}(?:\W+\w+){0,3}?\W+${GROUP}\b`),
  rule('PERSONAL_USE', 'personal use', String.raw`\b(?:personal\s+(?:use|reasons?|matter|business|interest|purposes?|curiosity)|for\s+myself|just\s+curious|curiosity|for\s+fun|to\s+(?:harass|intimidate|stalk|scare)|(?:off|un)-?duty\s+(?:interest|curiosity))\b`),
  rule('PERSONAL_USE', 'the operator\'s own acquaintance', String.raw`\bmy\s+(?:own\s+)?${PEOPLE}\b`),
  rule('PERSONAL_USE', 'checking on an acquaintance', String.raw`\b(?:check(?:ing)?\s+on|keep(?:ing)?\s+tabs\s+on|spy(?:ing)?\s+on|where\s+(?:is|was)\s+)(?:\W+\w+){0,2}?\W+${PEOPLE}\b`),
];

/** Trims, upper-cases and joins words with `_`: `"stolen vehicle"` -> `STOLEN_VEHICLE`. */
export function normalizeCode(code: string): string {
  return code.trim().toUpperCase().replace(/[\s\-./]+/g, '_');
}

function refuse(category: RefusalCategory, code: RefusalCode, reason: string, citation: string): PurposeRefusal {
  return { ok: false, category, code, reason, citation };
}

/** Checks free text against {@link TEXT_RULES}; `field` names it in the reason. */
export function checkText(text: string | undefined, field = 'text'): PurposeCheck {
  if (text === undefined || text === '') return { ok: true };
  // Codes such as ICE_DETAINER read as words too.
  const prose = text.replace(/_/g, ' ');
  for (const r of TEXT_RULES) {
    const m = r.pattern.exec(prose);
    if (m !== null) {
      return refuse(
        r.category,
        'FORBIDDEN_TEXT',
        `${field} names a forbidden purpose: ${r.label} (${JSON.stringify(m[0].trim())})`,
        CITATIONS[r.category],
      );
    }
  }
  return { ok: true };
}

/** A request to act for a purpose: an operator action or a partial entry. */
export interface PurposeRequest {
  /** Structured purpose code, one of {@link ALLOWED_PURPOSES} (case and spaces are forgiven). */
  purpose?: string;
  /** Case number (agency case, OCA). */
  case?: string;
  /** Free-text reason. */
  reason?: string;
  /** Other free text to screen (entry notes, a list type). */
  notes?: string;
}

/** Options of {@link checkPurpose}. */
export interface CheckPurposeOptions {
  /** Require a case number whatever the purpose (partial entries, searches, exports). */
  requireCase?: boolean;
}

const MAX_CASE_LENGTH = 64;

/**
 * Checks an operator action's purpose: the code must be on the allow-list and not forbidden,
 * investigative purposes (or every purpose, with `requireCase`) need a case number, and the
 * reason and notes must not name a forbidden purpose.
 */
export function checkPurpose(req: PurposeRequest, options: CheckPurposeOptions = {}): PurposeCheck {
  const raw = typeof req.purpose === 'string' ? req.purpose : '';
  if (raw.trim() === '') {
    return refuse('UNDOCUMENTED', 'MISSING_PURPOSE', 'a purpose code is required', CITATIONS.UNDOCUMENTED_PURPOSE);
  }
  const code = normalizeCode(raw);
  const forbidden = FORBIDDEN_CODES[code];
  if (forbidden !== undefined) {
    return refuse(forbidden, 'FORBIDDEN_PURPOSE', `purpose ${code} is forbidden (${forbidden})`, CITATIONS[forbidden]);
  }
  if (!Object.hasOwn(ALLOWED_PURPOSES, code)) {
    // A code that is not a forbidden one by name may still say one ("TRACK_CLINIC_VISITS").
    const text = checkText(raw, 'purpose');
    if (!text.ok) return { ...text, code: 'FORBIDDEN_PURPOSE' };
    return refuse(
      'UNAUTHORIZED_PURPOSE',
      'UNKNOWN_PURPOSE',
      `purpose ${JSON.stringify(raw)} is not an allowed purpose code (see docs/audit.md)`,
      CITATIONS.UNAUTHORIZED_PURPOSE,
    );
  }
  const purpose = code as PurposeCode;
  const caseNo = typeof req.case === 'string' ? req.case.trim() : '';
  if (caseNo === '' && (options.requireCase === true || ALLOWED_PURPOSES[purpose].investigative)) {
    return refuse('UNDOCUMENTED', 'MISSING_CASE', `purpose ${purpose} requires a case number`, CITATIONS.UNDOCUMENTED_CASE);
  }
  // eslint-disable-next-line no-control-regex -- the class names the control characters a case number must not hold
  if (caseNo.length > MAX_CASE_LENGTH || /[\u0000-\u001f\u007f]/.test(caseNo)) {
    return refuse('UNDOCUMENTED', 'INVALID_CASE', `case number must be 1 to ${MAX_CASE_LENGTH} printable characters`, CITATIONS.UNDOCUMENTED_CASE);
  }
  for (const [field, text] of [['reason', req.reason], ['notes', req.notes]] as const) {
    const r = checkText(text, field);
    if (!r.ok) return r;
  }
  return { ok: true, purpose };
}

/**
 * Checks a hotlist list type. A list type that is itself a forbidden purpose (`IMMIGRATION`,
 * `ICE_DETAINER`, `DEPORTATION`, ...) is refused; standard and other local list types pass.
 */
export function checkListType(list: string): PurposeCheck {
  const code = normalizeCode(typeof list === 'string' ? list : '');
  if (code === '') {
    return refuse('UNDOCUMENTED', 'MISSING_LIST_TYPE', 'a list type is required', CITATIONS.UNDOCUMENTED_PURPOSE);
  }
  if ((STANDARD_LIST_TYPES as readonly string[]).includes(code)) return { ok: true };
  const forbidden = FORBIDDEN_CODES[code];
  if (forbidden !== undefined) {
    return refuse(forbidden, 'FORBIDDEN_LIST_TYPE', `list type ${code} is a forbidden purpose (${forbidden})`, CITATIONS[forbidden]);
  }
  const text = checkText(code, 'list type');
  if (!text.ok) return { ...text, code: 'FORBIDDEN_LIST_TYPE', reason: text.reason.replace('list type names', `list type ${code} names`) };
  return { ok: true };
}

/** The fields of a hotlist entry that say what it is for. */
export interface EntryPurposeFields {
  list: string;
  notes?: string;
  /** Partial entries carry a purpose and a case number. */
  purpose?: string;
  case?: string;
}

/**
 * Checks a hotlist entry at load: its list type, its notes, and, when it names a purpose (a
 * partial entry), that purpose with a case number required.
 */
export function checkEntryPurpose(entry: EntryPurposeFields): PurposeCheck {
  const list = checkListType(entry.list);
  if (!list.ok) return list;
  if (entry.purpose !== undefined) return checkPurpose({ purpose: entry.purpose, case: entry.case, notes: entry.notes }, { requireCase: true });
  return checkText(entry.notes, 'notes');
}

/** Turns a refusal into the typed error, for callers that throw. */
export function purposeError(refusal: PurposeRefusal): PurposeRefusedError {
  return new PurposeRefusedError({ category: refusal.category, refusal: refusal.code, reason: refusal.reason, citation: refusal.citation });
}

/** {@link checkPurpose}, throwing {@link PurposeRefusedError} on refusal; returns the purpose code. */
export function assertPurpose(req: PurposeRequest, options?: CheckPurposeOptions): PurposeCode {
  const r = checkPurpose(req, options);
  if (!r.ok) throw purposeError(r);
  return r.purpose as PurposeCode;
}
