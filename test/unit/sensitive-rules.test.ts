/**
 * Sensitive-place rules (Englewood PD 425.5 (g)-(i)): the default tags, their purposes (criminal
 * investigations only) and citations, configuration merged over them, refusal of a config
 * naming an unknown purpose or tag, and the gate that decides, read by read, what a search may
 * return and what it withholds.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../matcher/errors.js';
import { ALLOWED_PURPOSES, type PurposeCode } from '../../matcher/policy/purpose.js';
import { CRIMINAL_INVESTIGATIVE_PURPOSES, DEFAULT_SENSITIVE_TAGS, SensitivePlaces } from '../../matcher/policy/sensitive.js';
import { approvalRefusal, type SensitiveApproval } from '../../matcher/sensitive/approvals.js';
import { SensitiveGate } from '../../matcher/sensitive/gate.js';
import type { ReadRecord } from '../../matcher/types.js';

const HOUR = 3_600_000;
const read = (id: string, cameraId?: string): ReadRecord => ({ id, plate: '7ABC123', ts: 0, ...(cameraId !== undefined ? { cameraId } : {}) }) as ReadRecord;
const approval = (over: Partial<SensitiveApproval> = {}): SensitiveApproval => ({
  id: 'sens-1', requestedBy: 'ana', tags: ['healthcare'], purpose: 'FELONY_INVESTIGATION', case: 'C-1', nexus: 'suspect drove to the clinic after the shooting',
  status: 'approved', decidedBy: 'sup1', decidedAt: 0, expiresAt: 10 * HOUR, createdAt: 0, ...over,
});

describe('default tags', () => {
  it('cover healthcare (425.5(h)), places of worship (425.5(g), (i)) and protest sites (425.5(i)), approval required', () => {
    expect(Object.keys(DEFAULT_SENSITIVE_TAGS).sort()).toEqual(['healthcare', 'place_of_worship', 'protest_site']);
    expect(DEFAULT_SENSITIVE_TAGS.healthcare.citation).toMatch(/425\.5\(h\).*nexus to activity that is or would be criminal/);
    expect(DEFAULT_SENSITIVE_TAGS.place_of_worship.citation).toMatch(/425\.5\(g\).*religion.*425\.5\(i\)/);
    expect(DEFAULT_SENSITIVE_TAGS.protest_site.citation).toMatch(/425\.5\(i\).*First Amendment/);
    for (const t of Object.values(DEFAULT_SENSITIVE_TAGS)) expect(t.approval).toBe(true);
  });

  it('allow only criminal investigations: investigative purposes but internal affairs and civil litigation', () => {
    const want = (Object.keys(ALLOWED_PURPOSES) as PurposeCode[]).filter((p) => ALLOWED_PURPOSES[p].investigative && !['INTERNAL_AFFAIRS', 'CIVIL_LITIGATION'].includes(p));
    expect([...CRIMINAL_INVESTIGATIVE_PURPOSES].sort()).toEqual(want.sort());
    expect(CRIMINAL_INVESTIGATIVE_PURPOSES).toContain('FELONY_INVESTIGATION');
    for (const p of ['STOLEN_VEHICLE', 'SYSTEM_AUDIT', 'AMBER_ALERT', 'INTERNAL_AFFAIRS', 'CIVIL_LITIGATION']) expect(CRIMINAL_INVESTIGATIVE_PURPOSES).not.toContain(p);
  });
});

describe('SensitivePlaces', () => {
  it('resolves a camera to its tags; untagged cameras and reads without a camera have none', () => {
    const sp = new SensitivePlaces({ cameras: { 'cam-clinic': ['healthcare'], 'cam-church': ['place_of_worship', 'protest_site', 'protest_site'] } });
    expect(sp.active).toBe(true);
    expect(sp.tagsOf('cam-clinic')).toEqual(['healthcare']);
    expect(sp.tagsOf('cam-church')).toEqual(['place_of_worship', 'protest_site']);
    expect(sp.tagsOf('cam-street')).toEqual([]);
    expect(sp.tagsOf(undefined)).toEqual([]);
    expect(new SensitivePlaces().active).toBe(false);
  });

  it('ruleCheck: allowed with the tags needing approval, or refused with the citation of the tag', () => {
    const sp = new SensitivePlaces();
    expect(sp.ruleCheck(['healthcare'], 'felony investigation')).toEqual({ ok: true, needsApproval: ['healthcare'] });
    for (const purpose of ['STOLEN_VEHICLE', 'SYSTEM_AUDIT', 'CIVIL_LITIGATION']) {
      const r = sp.ruleCheck(['healthcare'], purpose);
      expect(r).toMatchObject({ ok: false, tag: 'healthcare' });
      if (!r.ok) expect(r.citation).toMatch(/425\.5\(h\)/);
    }
    expect(sp.ruleCheck(['nope'], 'HOMICIDE')).toMatchObject({ ok: false, tag: 'nope' });
  });

  it('merges configuration over the defaults: a tag of the same name replaces it, local tags are added', () => {
    const sp = new SensitivePlaces({
      tags: {
        healthcare: { purposes: ['homicide', 'KIDNAPPING'] },
        school: { description: 'a school', purposes: ['AMBER_ALERT'], approval: false },
      },
      cameras: { 'cam-school': ['school'] },
      approvalHours: 24,
    });
    expect(sp.tags.get('healthcare')).toMatchObject({ purposes: ['HOMICIDE', 'KIDNAPPING'], approval: true, citation: DEFAULT_SENSITIVE_TAGS.healthcare.citation });
    expect(sp.ruleCheck(['healthcare'], 'FELONY_INVESTIGATION').ok).toBe(false);
    expect(sp.tags.get('protest_site')).toEqual(DEFAULT_SENSITIVE_TAGS.protest_site);
    expect(sp.ruleCheck(['school'], 'AMBER_ALERT')).toEqual({ ok: true, needsApproval: [] });
    expect(sp.tags.get('school')?.citation).toMatch(/local/);
    expect(sp.approvalMs).toBe(24 * HOUR);
  });

  it('refuses a configuration with an unknown purpose or a camera naming an undefined tag', () => {
    expect(() => new SensitivePlaces({ tags: { x: { purposes: ['TRACK_PEOPLE'] } } })).toThrow(ConfigError);
    expect(() => new SensitivePlaces({ cameras: { c: ['helthcare'] } })).toThrow(/no tag "helthcare"/);
  });
});

describe('approvalRefusal', () => {
  it('refuses unknown, pending, denied, expired and borrowed approvals; accepts the holder\'s own', () => {
    const at = { now: HOUR, holder: 'ana' };
    expect(approvalRefusal('x', undefined, at)?.refusal).toBe('APPROVAL_UNKNOWN');
    expect(approvalRefusal('x', approval({ status: 'pending', expiresAt: undefined }), at)?.refusal).toBe('APPROVAL_PENDING');
    expect(approvalRefusal('x', approval({ status: 'denied', expiresAt: undefined }), at)?.refusal).toBe('APPROVAL_DENIED');
    expect(approvalRefusal('x', approval(), { now: 10 * HOUR, holder: 'ana' })?.refusal).toBe('APPROVAL_EXPIRED');
    expect(approvalRefusal('x', approval(), { now: HOUR, holder: 'bob' })?.code).toBe('ERR_SENSITIVE_APPROVAL');
    expect(approvalRefusal('x', approval(), { now: HOUR, holder: 'ANA' })).toBeUndefined();
    expect(approvalRefusal('x', approval(), { now: HOUR })).toBeUndefined();
  });
});

describe('SensitiveGate', () => {
  const sp = new SensitivePlaces({ tags: { depot: { approval: false } }, cameras: { clinic: ['healthcare'], church: ['place_of_worship'], depot: ['depot'] } });

  it('without an approval: untagged reads pass, tagged ones are withheld and counted by reason', () => {
    const g = new SensitiveGate(sp, { purpose: 'FELONY_INVESTIGATION', case: 'C-1' });
    expect([read('a', 'street'), read('b'), read('c', 'clinic'), read('d', 'clinic'), read('e', 'depot')].map((r) => g.admit(r))).toEqual([true, true, false, false, true]);
    expect(g.anyWithheld).toBe(true);
    const events = g.events({ plate: '7ABC123' });
    expect(events.map((e) => e.action)).toEqual(['sensitive.access', 'sensitive.withheld']);
    expect(events[0]).toMatchObject({ subject: { count: 1 }, details: { tags: ['depot'] } });
    expect(events[1]).toMatchObject({ purpose: 'FELONY_INVESTIGATION', case: 'C-1', subject: { plate: '7ABC123', count: 2 }, details: { reasons: { 'no-approval': 2 } } });
  });

  it('with an approval: returns the tags it covers for its purpose and case, withholds the rest', () => {
    const g = new SensitiveGate(sp, { purpose: 'felony investigation', case: ' C-1 ' }, approval());
    expect([read('c', 'clinic'), read('w', 'church')].map((r) => g.admit(r))).toEqual([true, false]);
    const [access, withheld] = g.events({ plate: '7ABC123' }, { via: 'search' });
    expect(access).toMatchObject({ action: 'sensitive.access', reason: approval().nexus, subject: { approvalId: 'sens-1', count: 1 }, details: { via: 'search', tags: ['healthcare'], requestedBy: 'ana', approvedBy: 'sup1' } });
    expect(withheld).toMatchObject({ action: 'sensitive.withheld', details: { reasons: { 'approval-tags': 1 } } });
  });

  it('withholds even with an approval when the purpose is not allowed or the case differs', () => {
    const other = new SensitiveGate(sp, { purpose: 'FELONY_INVESTIGATION', case: 'C-2' }, approval());
    expect(other.admit(read('c', 'clinic'))).toBe(false);
    const stolen = new SensitiveGate(sp, { purpose: 'STOLEN_VEHICLE' }, approval());
    expect(stolen.admit(read('c', 'clinic'))).toBe(false);
    expect(stolen.admit(read('e', 'depot'))).toBe(false);
    expect(other.events({})[0].details).toMatchObject({ reasons: { 'approval-scope': 1 } });
    expect(stolen.events({})[0].details).toMatchObject({ reasons: { purpose: 2 } });
    expect(stolen.events({}).map((e) => e.action)).toEqual(['sensitive.withheld']);
  });
});
