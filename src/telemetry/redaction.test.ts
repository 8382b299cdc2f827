import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { BUILTIN_REDACTIONS } from './payload-log-config.ts';
import { luhnValid, Redactor } from './redaction.ts';

// Built-in detectors (what they catch and what they leave alone) and user patterns.

const all = new Redactor({ builtin: BUILTIN_REDACTIONS, patterns: [] });

describe('redaction', () => {
  it('emails', () => {
    assert.equal(
      all.redact('Write to jane.doe+billing@example.co.uk or ops@mail.acme.io.'),
      'Write to [REDACTED:email] or [REDACTED:email].',
    );
  });

  it('phone numbers in international, North American and national forms', () => {
    for (const phone of [
      '+1 415 555 0100',
      '+44 20 7946 0958',
      '+33 1 23 45 67 89',
      '+4930123456',
      '(415) 555-0100',
      '415-555-0100',
      '415.555.0100',
      '020 7946 0958',
      '030 1234567',
    ])
      assert.equal(all.redact(`call ${phone} today`), 'call [REDACTED:phone] today', phone);
    for (const plain of [
      'on 2024-01-15 at 10:30',
      'dated 01-02-2024',
      'order 123456789',
      'version 3.11.4',
      'pi is 3.14159265',
      'ids 12 34 56',
    ])
      assert.equal(all.redact(plain), plain);
  });

  it('credit card numbers only when they pass the Luhn check', () => {
    assert.ok(luhnValid('4111111111111111'));
    assert.ok(!luhnValid('4111111111111112'));
    for (const card of [
      '4111 1111 1111 1111',
      '4111-1111-1111-1111',
      '4111111111111111',
      '3782 822463 10005',
    ])
      assert.equal(all.redact(`card ${card}, exp 12/25`), 'card [REDACTED:credit_card], exp 12/25', card);
    assert.equal(all.redact('card 4111 1111 1111 1111 12/25'), 'card [REDACTED:credit_card] 12/25');
    // Same shape, wrong check digit: not a card (and not a phone number either: 16 digits).
    assert.equal(all.redact('ref 4111 1111 1111 1112'), 'ref 4111 1111 1111 1112');
  });

  it('API-key-like tokens', () => {
    for (const key of [
      'sk-proj-Abc123def456ghi789jkl012',
      'sk-ant-api03-abcdefghijklmnop_QRS',
      'sy-0123456789abcdefghijABCDEFGHIJ0123456789',
      'AKIAIOSFODNN7EXAMPLE',
      'AIzaSyA1234567890abcdefghijklmnopqrstuv',
      'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'xoxb-123456789012-abcdefghij',
      'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U',
      'Q2xhdWRlIGlzIGEgZ3JlYXQgbW9kZWwxMjM0NTY3',
    ])
      assert.equal(all.redact(`key=${key};`), 'key=[REDACTED:api_key];', key);
    const hash = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    assert.equal(all.redact(`sha256 ${hash}`), `sha256 ${hash}`); // no upper case: a digest, not a key
  });

  it('IPv4 addresses, not version numbers with parts above 255', () => {
    assert.equal(
      all.redact('from 10.0.0.1, then 192.168.100.200.'),
      'from [REDACTED:ipv4], then [REDACTED:ipv4].',
    );
    assert.equal(all.redact('build 300.1.2.3'), 'build 300.1.2.3');
  });

  it('only the enabled built-ins, then the user’s own patterns first', () => {
    const r = new Redactor({
      builtin: ['email'],
      patterns: [
        { name: 'employee_id', regex: 'EMP-\\d{6}' },
        { name: 'codename', regex: '(?i:project\\s+falcon)' },
      ],
    });
    assert.equal(
      r.redact('EMP-123456 (a@b.io, 10.0.0.1) works on Project Falcon'),
      '[REDACTED:employee_id] ([REDACTED:email], 10.0.0.1) works on [REDACTED:codename]',
    );
    const none = new Redactor({ builtin: [], patterns: [] });
    assert.equal(none.redact('a@b.io'), 'a@b.io');
  });

  it('a "$" in the text or marker is not a replacement pattern', () => {
    assert.equal(all.redact('pay $& to a@b.io $1'), 'pay $& to [REDACTED:email] $1');
  });
});
