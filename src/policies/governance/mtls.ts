import type { PeerCertificate } from 'node:tls';
import type { Identity, PriorityClass } from '../../contracts/request.ts';

// mTLS: a verified client certificate (the server passes only certificates its CA list accepted) mapped
// to an Identity by the first rule whose conditions all hold. Conditions: subject CN, a subjectAltName
// entry ("DNS:svc.example", "URI:spiffe://…", or just the value), or the SHA-256 fingerprint; "*" matches
// any value. Identity fields may use {cn}, {o}, {ou}, {san}, {fingerprint} placeholders.

export interface MtlsRule {
  readonly cn?: string | undefined;
  readonly san?: string | undefined;
  readonly fingerprint256?: string | undefined;
  /** Identity id; default "{cn}" (or the first SAN, or the fingerprint). */
  readonly id?: string | undefined;
  readonly tenant?: string | undefined;
  readonly team?: string | undefined;
  readonly user?: string | undefined;
  readonly models?: readonly string[] | undefined;
  readonly priority?: PriorityClass | undefined;
}

function first(v: string | string[] | undefined): string {
  return (Array.isArray(v) ? v[0] : v) ?? '';
}

function sans(cert: PeerCertificate): string[] {
  return (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const normaliseFingerprint = (f: string): string => f.replaceAll(':', '').toUpperCase();

function matches(rule: MtlsRule, cert: PeerCertificate, altNames: readonly string[]): boolean {
  if (rule.cn !== undefined && rule.cn !== '*' && rule.cn !== first(cert.subject?.CN)) return false;
  if (rule.san !== undefined && rule.san !== '*') {
    const want = rule.san;
    if (!altNames.some((s) => s === want || s.slice(s.indexOf(':') + 1) === want)) return false;
  }
  if (rule.fingerprint256 !== undefined && rule.fingerprint256 !== '*') {
    if (normaliseFingerprint(rule.fingerprint256) !== normaliseFingerprint(cert.fingerprint256 ?? ''))
      return false;
  }
  return true;
}

/** The identity for a verified client certificate, or null when no rule matches. */
export function identityFromCertificate(cert: PeerCertificate, rules: readonly MtlsRule[]): Identity | null {
  const altNames = sans(cert);
  const rule = rules.find((r) => matches(r, cert, altNames));
  if (rule === undefined) return null;
  const firstSan = altNames[0] ?? '';
  const vars: Record<string, string> = {
    cn: first(cert.subject?.CN),
    o: first(cert.subject?.O),
    ou: first(cert.subject?.OU),
    san: firstSan.slice(firstSan.indexOf(':') + 1),
    fingerprint: normaliseFingerprint(cert.fingerprint256 ?? ''),
  };
  const fill = (template: string | undefined): string | null =>
    template === undefined
      ? null
      : template.replace(/\{(cn|o|ou|san|fingerprint)\}/g, (_, k: string) => vars[k] ?? '');
  const id = fill(rule.id) ?? (vars.cn || vars.san || vars.fingerprint || 'mtls');
  return {
    id,
    kind: 'mtls',
    tenant: fill(rule.tenant),
    team: fill(rule.team),
    user: fill(rule.user),
    allowedModels: rule.models === undefined ? null : new Set(rule.models),
    priority: rule.priority ?? null,
    metadata: {},
  };
}
