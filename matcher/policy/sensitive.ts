/**
 * Sensitive places (docs/sensitive-places.md): cameras tagged as a healthcare facility, a place
 * of worship, a protest site or any local tag, and the rule of each tag: the purposes for which
 * its reads may be returned at all, and whether a supervisor's approval is needed first.
 *
 * Englewood PD 425.5 (g)-(i) forbid targeting people by religion, tracking vehicles to or from
 * healthcare facilities and monitoring First Amendment activity "unless there is a clearly
 * articulated nexus to activity that is or would be criminal". The default rules follow that
 * text: only purposes that are a criminal investigation with a case number, and a supervisor's
 * approval that records the articulated nexus. Configuration may add tags or replace a default
 * one (same name); it cannot remove the defaults, so a site's `healthcare` cameras are always
 * governed by some rule. Nothing here touches the database: the store applies these rules
 * (matcher/sensitive/gate.ts) and the approvals live in matcher/sensitive/approvals.ts.
 */
import { ConfigError } from '../errors.js';
import { ALLOWED_PURPOSES, normalizeCode, type PurposeCode } from './purpose.js';

/** Englewood PD 425.5 clauses the default tags serve. */
export const SENSITIVE_CITATIONS = {
  healthcare:
    'Englewood PD Policy 425.5(h): ALPR data shall not be used to target or track the movement of vehicles traveling to or from healthcare facilities unless there is a clearly articulated nexus to activity that is or would be criminal',
  place_of_worship:
    'Englewood PD Policy 425.5(g) (religion) and 425.5(i): ALPR data shall not be used to target any person based on religion, nor to monitor activities protected by the First Amendment, unless there is a clearly articulated nexus to activity that is or would be criminal',
  protest_site:
    'Englewood PD Policy 425.5(i): ALPR data shall not be used for the purpose of monitoring activities protected by the First Amendment unless there is a clearly articulated nexus to activity that is or would be criminal',
} as const;

/** One tag's rule, resolved (defaults applied). */
export interface SensitiveTagRule {
  name: string;
  description: string;
  /** The policy clause, quoted in refusals and audit records. */
  citation: string;
  /** Normalized purpose codes for which the tag's reads may be returned. */
  purposes: readonly PurposeCode[];
  /** A supervisor's approval (with the articulated nexus) is required before its reads are returned. */
  approval: boolean;
}

/** A tag as the configuration gives it (config-schema.ts sensitiveTagSchema). */
export interface SensitiveTagInput {
  description?: string;
  citation?: string;
  purposes?: readonly string[];
  approval?: boolean;
}

/** The `sensitivePlaces` section, as configured (config-schema.ts sensitivePlacesSchema). */
export interface SensitivePlacesInput {
  tags?: Readonly<Record<string, SensitiveTagInput>>;
  cameras?: Readonly<Record<string, readonly string[]>>;
  approvalHours?: number;
}

/**
 * Purposes that need a case number and are a criminal investigation. INTERNAL_AFFAIRS and
 * CIVIL_LITIGATION need a case too but are left out: 425.5 asks for a nexus to activity that is
 * or would be criminal, which a personnel matter or a civil suit is not.
 */
export const CRIMINAL_INVESTIGATIVE_PURPOSES: readonly PurposeCode[] = (Object.keys(ALLOWED_PURPOSES) as PurposeCode[]).filter(
  (p) => ALLOWED_PURPOSES[p].investigative && p !== 'INTERNAL_AFFAIRS' && p !== 'CIVIL_LITIGATION',
);

/** The tags every installation has; configuration may replace them by name, not remove them. */
export const DEFAULT_SENSITIVE_TAGS: Readonly<Record<string, SensitiveTagRule>> = {
  healthcare: {
    name: 'healthcare', description: 'a healthcare facility: clinic, hospital, mental or behavioral health provider, reproductive health care center',
    citation: SENSITIVE_CITATIONS.healthcare, purposes: CRIMINAL_INVESTIGATIVE_PURPOSES, approval: true,
  },
  place_of_worship: {
    name: 'place_of_worship', description: 'a place of worship: church, mosque, synagogue, temple',
    citation: SENSITIVE_CITATIONS.place_of_worship, purposes: CRIMINAL_INVESTIGATIVE_PURPOSES, approval: true,
  },
  protest_site: {
    name: 'protest_site', description: 'a site of protests, rallies or other First Amendment activity',
    citation: SENSITIVE_CITATIONS.protest_site, purposes: CRIMINAL_INVESTIGATIVE_PURPOSES, approval: true,
  },
};

/** Default hours an approval stays valid (the config's `approvalHours` default). */
export const DEFAULT_APPROVAL_HOURS = 72;

/** The outcome of {@link SensitivePlaces.ruleCheck}. */
export type SensitiveRuleCheck =
  | { ok: true; /** Tags among those checked that need a supervisor's approval. */ needsApproval: string[] }
  | { ok: false; /** The first tag that refuses. */ tag: string; reason: string; citation: string };

/** Camera tags and their rules, resolved from the configuration over the defaults. */
export class SensitivePlaces {
  readonly tags: ReadonlyMap<string, SensitiveTagRule>;
  readonly cameras: ReadonlyMap<string, readonly string[]>;
  readonly approvalMs: number;

  /**
   * Throws {@link ConfigError} for a purpose that is not an allowed purpose code and for a camera
   * naming a tag no rule defines: either would leave tagged reads under no rule anyone wrote.
   */
  constructor(input: SensitivePlacesInput = {}) {
    const tags = new Map(Object.entries(DEFAULT_SENSITIVE_TAGS));
    for (const [name, t] of Object.entries(input.tags ?? {})) {
      const purposes = t.purposes?.map((p, i) => {
        const code = normalizeCode(p);
        if (!Object.hasOwn(ALLOWED_PURPOSES, code)) throw new ConfigError(`sensitivePlaces.tags.${name}.purposes.${i}`, `config: sensitivePlaces.tags.${name}.purposes: ${JSON.stringify(p)} is not an allowed purpose code (docs/audit.md)`);
        return code as PurposeCode;
      });
      const base = DEFAULT_SENSITIVE_TAGS[name];
      tags.set(name, {
        name,
        description: t.description ?? base?.description ?? name,
        citation: t.citation ?? base?.citation ?? `local sensitive-place tag ${name}`,
        purposes: purposes ?? CRIMINAL_INVESTIGATIVE_PURPOSES,
        approval: t.approval ?? true,
      });
    }
    const cameras = new Map<string, readonly string[]>();
    for (const [camera, list] of Object.entries(input.cameras ?? {})) {
      list.forEach((tag, i) => {
        if (!tags.has(tag)) throw new ConfigError(`sensitivePlaces.cameras.${camera}.${i}`, `config: sensitivePlaces.cameras.${camera}: no tag ${JSON.stringify(tag)} (define it under sensitivePlaces.tags)`);
      });
      if (list.length > 0) cameras.set(camera, [...new Set(list)].sort());
    }
    this.tags = tags;
    this.cameras = cameras;
    this.approvalMs = (input.approvalHours ?? DEFAULT_APPROVAL_HOURS) * 3_600_000;
  }

  /** True when some camera is tagged: otherwise searches skip the gate entirely. */
  get active(): boolean {
    return this.cameras.size > 0;
  }

  /** The camera's tags, sorted; empty for an untagged camera or a read without one. */
  tagsOf(cameraId: string | undefined): readonly string[] {
    return cameraId === undefined ? [] : (this.cameras.get(cameraId) ?? []);
  }

  /** Whether every tag's rule allows the purpose, and which of them need an approval. */
  ruleCheck(tags: readonly string[], purpose: string): SensitiveRuleCheck {
    const code = normalizeCode(purpose);
    const needsApproval: string[] = [];
    for (const tag of tags) {
      const rule = this.tags.get(tag);
      if (rule === undefined) return { ok: false, tag, reason: `no rule for the sensitive-place tag ${tag}`, citation: 'docs/sensitive-places.md' };
      if (!(rule.purposes as readonly string[]).includes(code)) {
        return { ok: false, tag, reason: `reads of a ${tag} camera may not be used for ${code}; allowed: ${rule.purposes.join(', ')}`, citation: rule.citation };
      }
      if (rule.approval) needsApproval.push(tag);
    }
    return { ok: true, needsApproval };
  }
}
