import type { BuiltinRedaction } from './payload-log-config.ts';

// Replaces personal data and secrets in text with [REDACTED:<kind>]. Built once per route from config
// (regular expressions compiled once), then pure: redact(text) → text. Detectors run in a fixed order,
// the user's patterns first, then the built-ins from the most specific to the least: a card number is
// gone before the phone detector could see its digit groups, an IP address before it could read one as
// a phone number. Replacement markers contain no digits, '@' or dots, so no later detector matches them.
//
// The built-ins aim at what leaks in prompts, preferring a missed oddity to mangled ordinary text:
// - credit_card: 13–19 digits, plain or in groups of 4 (or Amex 4-6-5) split by one space or dash, that
//   pass the Luhn check;
// - api_key: known key shapes (OpenAI/Anthropic sk-, Switchyard sy-, AWS AKIA/ASIA, Google AIza, GitHub,
//   Slack, JWTs) and any 32+ character token mixing upper case, lower case and digits;
// - email: local@domain.tld;
// - ipv4: dotted quads with each part 0–255;
// - phone: +country forms, North American (415) 555-0100 / 415-555-0100, and national numbers with a
//   leading 0 (020 7946 0958), up to 15 digits; bare digit runs and dates are left alone.

interface Rule {
  readonly kind: string;
  readonly re: RegExp;
  /** Confirms a match (Luhn, digit count); a rejected match is left as it was. */
  readonly accept?: (match: string) => boolean;
}

function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

const BUILTIN: Readonly<Record<BuiltinRedaction, Rule>> = {
  credit_card: {
    kind: 'credit_card',
    re: /(?<!\d)(?:\d{4}([ -]?)\d{4}\1\d{4}\1\d{4}|\d{4}[ -]?\d{6}[ -]?\d{5}|\d{13,19})(?!\d)/g,
    accept: (m) => {
      const d = digitsOf(m);
      return d.length >= 13 && d.length <= 19 && luhnValid(d);
    },
  },
  api_key: {
    kind: 'api_key',
    re: new RegExp(
      '(?<![\\w-])(?:' +
        [
          'sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}',
          'sy-[A-Za-z0-9]{20,}',
          '(?:AKIA|ASIA)[0-9A-Z]{16}',
          'AIza[0-9A-Za-z_-]{35}',
          'gh[pousr]_[A-Za-z0-9]{30,}',
          'github_pat_[A-Za-z0-9_]{22,}',
          'xox[abprs]-[A-Za-z0-9-]{10,}',
          'eyJ[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}\\.[A-Za-z0-9_-]{8,}',
          '(?=[A-Za-z0-9_-]*[0-9])(?=[A-Za-z0-9_-]*[a-z])(?=[A-Za-z0-9_-]*[A-Z])[A-Za-z0-9_-]{32,}',
        ].join('|') +
        ')(?![\\w-])',
      'g',
    ),
  },
  email: {
    kind: 'email',
    re: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g,
  },
  ipv4: {
    kind: 'ipv4',
    re: /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g,
  },
  phone: {
    kind: 'phone',
    re: /(?<![\w+])(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{3}\) ?\d{3}[ .-]\d{4}|\d{3}[ .-]\d{3}[ .-]\d{4}|0\d{1,4}[ .-]?\d{2,4}(?:[ .-]?\d{2,4}){1,3})(?!\w)/g,
    // 8 digits may be a whole number with a country code (+45 12345678); without one, 8 digits with a
    // leading 0 are more often a date (01-02-2024).
    accept: (m) => {
      const n = digitsOf(m).length;
      return n <= 15 && n >= (m.startsWith('+') ? 8 : 9);
    },
  },
};

/** Order in which the built-ins run (see the header). */
const BUILTIN_ORDER: readonly BuiltinRedaction[] = ['credit_card', 'api_key', 'email', 'ipv4', 'phone'];

export interface RedactionOptions {
  readonly builtin: readonly BuiltinRedaction[];
  /** The user's patterns (validated by the config schema): matches become [REDACTED:<name>]. */
  readonly patterns: readonly { readonly name: string; readonly regex: string }[];
}

export class Redactor {
  private readonly rules: readonly Rule[];

  constructor(options: RedactionOptions) {
    const own = options.patterns.map((p) => ({ kind: p.name, re: new RegExp(p.regex, 'gu') }));
    const enabled = new Set(options.builtin);
    this.rules = [...own, ...BUILTIN_ORDER.filter((k) => enabled.has(k)).map((k) => BUILTIN[k])];
  }

  redact(text: string): string {
    let out = text;
    for (const rule of this.rules) {
      const marker = `[REDACTED:${rule.kind}]`;
      const accept = rule.accept;
      out = out.replace(rule.re, accept === undefined ? () => marker : (m) => (accept(m) ? marker : m));
    }
    return out;
  }
}
