/**
 * Purpose rules: allowed codes pass, unknown and forbidden codes are refused by rule, case
 * numbers are required where the purpose is investigative, free text naming a forbidden
 * purpose is refused with its category and citation, and forbidden list types are refused.
 */
import { describe, expect, it } from 'vitest';
import { PurposeRefusedError } from '../../matcher/errors.js';
import {
  ALLOWED_PURPOSES,
  FORBIDDEN_CATEGORIES,
  STANDARD_LIST_TYPES,
  assertPurpose,
  checkEntryPurpose,
  checkListType,
  checkPurpose,
  checkText,
  type ForbiddenCategory,
  type PurposeCode,
} from '../../matcher/policy/purpose.js';

const CLAUSE: Record<ForbiddenCategory, RegExp> = {
  CIVIL_IMMIGRATION: /425\.5\(f\)/,
  HEALTHCARE_TRACKING: /425\.5\(h\)/,
  FIRST_AMENDMENT: /425\.5\(i\)/,
  PROTECTED_CLASS: /425\.5\(g\)/,
  PERSONAL_USE: /425\.5\(j\)/,
};

describe('checkPurpose', () => {
  it.each(Object.keys(ALLOWED_PURPOSES) as PurposeCode[])('allows %s with a case number', (purpose) => {
    expect(checkPurpose({ purpose, case: '24-00123', reason: 'suspect vehicle seen leaving the scene' })).toEqual({ ok: true, purpose });
  });

  it('forgives case and spaces in a purpose code', () => {
    expect(checkPurpose({ purpose: ' stolen vehicle ' })).toEqual({ ok: true, purpose: 'STOLEN_VEHICLE' });
    expect(checkPurpose({ purpose: 'amber-alert' })).toEqual({ ok: true, purpose: 'AMBER_ALERT' });
  });

  it.each(FORBIDDEN_CATEGORIES)('refuses the forbidden purpose %s with its citation', (category) => {
    const r = checkPurpose({ purpose: category, case: '24-1' });
    expect(r).toMatchObject({ ok: false, category, code: 'FORBIDDEN_PURPOSE' });
    if (!r.ok) expect(r.citation).toMatch(CLAUSE[category]);
  });

  it.each(['ICE_DETAINER', 'deportation', 'immigration'])('refuses the purpose %s as civil immigration', (purpose) => {
    expect(checkPurpose({ purpose, case: '1' })).toMatchObject({ ok: false, category: 'CIVIL_IMMIGRATION', code: 'FORBIDDEN_PURPOSE' });
  });

  it('refuses an unknown purpose code by rule, not by guessing', () => {
    const r = checkPurpose({ purpose: 'GENERAL_INQUIRY', case: '24-1' });
    expect(r).toMatchObject({ ok: false, category: 'UNAUTHORIZED_PURPOSE', code: 'UNKNOWN_PURPOSE' });
    if (!r.ok) expect(r.citation).toMatch(/425\.3\(a\)/);
    expect(checkPurpose({ purpose: 'TRACK_CLINIC_VISITS' })).toMatchObject({ ok: false, category: 'HEALTHCARE_TRACKING', code: 'FORBIDDEN_PURPOSE' });
  });

  it('refuses a missing purpose as undocumented (Lakewood B.6)', () => {
    const r = checkPurpose({ case: '24-1' });
    expect(r).toMatchObject({ ok: false, category: 'UNDOCUMENTED', code: 'MISSING_PURPOSE' });
    if (!r.ok) expect(r.citation).toMatch(/Lakewood/);
    expect(checkPurpose({ purpose: '   ' })).toMatchObject({ ok: false, code: 'MISSING_PURPOSE' });
  });

  it('requires a case number for investigative purposes, and for any purpose when asked', () => {
    expect(checkPurpose({ purpose: 'HOMICIDE' })).toMatchObject({ ok: false, category: 'UNDOCUMENTED', code: 'MISSING_CASE' });
    expect(checkPurpose({ purpose: 'BOLO', case: '  ' })).toMatchObject({ ok: false, code: 'MISSING_CASE' });
    expect(checkPurpose({ purpose: 'STOLEN_VEHICLE' })).toEqual({ ok: true, purpose: 'STOLEN_VEHICLE' });
    expect(checkPurpose({ purpose: 'STOLEN_VEHICLE' }, { requireCase: true })).toMatchObject({ ok: false, code: 'MISSING_CASE' });
    expect(checkPurpose({ purpose: 'HOMICIDE', case: 'x'.repeat(65) })).toMatchObject({ ok: false, code: 'INVALID_CASE' });
    expect(checkPurpose({ purpose: 'HOMICIDE', case: '24\n1' })).toMatchObject({ ok: false, code: 'INVALID_CASE' });
  });

  const FORBIDDEN_REASONS: [ForbiddenCategory, string][] = [
    ['CIVIL_IMMIGRATION', 'assist with immigration enforcement'],
    ['CIVIL_IMMIGRATION', 'request from ICE field office'],
    ['CIVIL_IMMIGRATION', 'subject to be deported'],
    ['CIVIL_IMMIGRATION', 'visa overstay, locate vehicle'],
    ['CIVIL_IMMIGRATION', 'undocumented driver'],
    ['HEALTHCARE_TRACKING', 'vehicles visiting the reproductive health clinic on 5th'],
    ['HEALTHCARE_TRACKING', 'who goes to the abortion clinic'],
    ['HEALTHCARE_TRACKING', 'track trips to the mental health center'],
    ['HEALTHCARE_TRACKING', 'hospital visitors list'],
    ['HEALTHCARE_TRACKING', 'patients of the methadone clinic'],
    ['FIRST_AMENDMENT', 'identify protesters at city hall'],
    ['FIRST_AMENDMENT', 'cars at the Saturday rally'],
    ['FIRST_AMENDMENT', 'union meeting attendance'],
    ['FIRST_AMENDMENT', 'vehicles attending the mosque on Friday'],
    ['FIRST_AMENDMENT', 'members of the synagogue'],
    ['PROTECTED_CLASS', 'target drivers based on their race'],
    ['PROTECTED_CLASS', 'flag vehicles of muslims'],
    ['PROTECTED_CLASS', 'profiling by sexual orientation'],
    ['PROTECTED_CLASS', 'racial profiling study'],
    ['PERSONAL_USE', 'checking on my ex-wife'],
    ['PERSONAL_USE', 'where is my neighbour parking'],
    ['PERSONAL_USE', 'personal reasons'],
    ['PERSONAL_USE', 'just curious'],
  ];

  it.each(FORBIDDEN_REASONS)('refuses a reason naming %s: %s', (category, reason) => {
    const r = checkPurpose({ purpose: 'OTHER_CRIMINAL_INVESTIGATION', case: '24-1', reason });
    expect(r).toMatchObject({ ok: false, category, code: 'FORBIDDEN_TEXT' });
    if (!r.ok) {
      expect(r.citation).toMatch(CLAUSE[category]);
      expect(r.reason).toMatch(/^reason names a forbidden purpose/);
    }
  });

  it('screens notes as well as the reason', () => {
    expect(checkPurpose({ purpose: 'BOLO', case: '1', notes: 'ICE detainer' })).toMatchObject({ ok: false, category: 'CIVIL_IMMIGRATION' });
  });

  it.each([
    'shooting in the hospital parking lot, suspect fled in a grey sedan',
    'burglary at the church on Main St',
    'sex offender registry violation',
    'victim reports her ex-boyfriend took the car',
    'neighbour reported the vehicle at the scene',
    'blue colour Honda seen leaving',
    'missing adult with a mental health condition',
    'black ice on the road; hit and run',
    'suspect vehicle in a March 3 armed robbery',
  ])('lets a legitimate reason pass: %s', (reason) => {
    expect(checkPurpose({ purpose: 'FELONY_INVESTIGATION', case: '24-9', reason })).toEqual({ ok: true, purpose: 'FELONY_INVESTIGATION' });
  });
});

describe('assertPurpose', () => {
  it('returns the code or throws PurposeRefusedError with the refusal', () => {
    expect(assertPurpose({ purpose: 'robbery', case: '1' })).toBe('ROBBERY');
    let err: unknown;
    try {
      assertPurpose({ purpose: 'PERSONAL_USE' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PurposeRefusedError);
    expect(err).toMatchObject({ code: 'ERR_PURPOSE_REFUSED', category: 'PERSONAL_USE', refusal: 'FORBIDDEN_PURPOSE' });
    expect((err as PurposeRefusedError).citation).toMatch(/425\.5\(j\)/);
    expect((err as Error).message).toMatch(/^refused \(PERSONAL_USE\): purpose PERSONAL_USE is forbidden/);
  });
});

describe('checkListType', () => {
  it.each([...STANDARD_LIST_TYPES, 'GANG', 'SEX_OFFENDER', 'LOCAL_BURGLARY', 'stolen_vehicle'])('passes the list type %s', (list) => {
    expect(checkListType(list)).toEqual({ ok: true });
  });

  it.each(['IMMIGRATION', 'ICE_DETAINER', 'CIVIL_IMMIGRATION', 'DEPORTATION', 'ice', 'visa overstay', 'ICE_WATCH'])('refuses the list type %s as civil immigration', (list) => {
    const r = checkListType(list);
    expect(r).toMatchObject({ ok: false, category: 'CIVIL_IMMIGRATION', code: 'FORBIDDEN_LIST_TYPE' });
    if (!r.ok) {
      expect(r.citation).toMatch(/425\.5\(f\)/);
      expect(r.reason).toMatch(/^list type /);
    }
  });

  it.each([
    ['CLINIC_VISITS', 'HEALTHCARE_TRACKING'],
    ['PROTESTERS', 'FIRST_AMENDMENT'],
    ['PROFILING', 'PROTECTED_CLASS'],
    ['PERSONAL', 'PERSONAL_USE'],
  ])('refuses the list type %s as %s', (list, category) => {
    expect(checkListType(list)).toMatchObject({ ok: false, category, code: 'FORBIDDEN_LIST_TYPE' });
  });

  it('refuses an empty list type', () => {
    expect(checkListType('')).toMatchObject({ ok: false, code: 'MISSING_LIST_TYPE' });
  });
});

describe('checkEntryPurpose', () => {
  it('checks the list type, the notes, and a partial entry\'s purpose with its case', () => {
    expect(checkEntryPurpose({ list: 'STOLEN_VEHICLE', notes: 'VEH TAKEN FROM DEALER LOT' })).toEqual({ ok: true });
    expect(checkEntryPurpose({ list: 'ICE_DETAINER' })).toMatchObject({ ok: false, code: 'FORBIDDEN_LIST_TYPE' });
    expect(checkEntryPurpose({ list: 'BOLO', notes: 'attendees of the protest' })).toMatchObject({ ok: false, category: 'FIRST_AMENDMENT' });
    expect(checkEntryPurpose({ list: 'BOLO', purpose: 'HOMICIDE', case: '24-5' })).toEqual({ ok: true, purpose: 'HOMICIDE' });
    expect(checkEntryPurpose({ list: 'BOLO', purpose: 'STOLEN_VEHICLE' })).toMatchObject({ ok: false, code: 'MISSING_CASE' });
  });
});

describe('checkText', () => {
  it('passes empty text and catches uppercase NCIC remarks', () => {
    expect(checkText(undefined)).toEqual({ ok: true });
    expect(checkText('')).toEqual({ ok: true });
    expect(checkText('VEH SEEN AT PROTEST ON 5TH', 'notes')).toMatchObject({ ok: false, category: 'FIRST_AMENDMENT' });
  });
});
