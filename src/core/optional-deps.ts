import { createRequire } from 'node:module';
import type * as Ioredis from 'ioredis';
import type * as Jose from 'jose';
import type pg from 'pg';

// Packages only some configurations use (PostgreSQL stores, Redis state, JWT auth), loaded the first
// time one is needed rather than at start: a gateway that uses none of them does not pay their code and
// heap (some 10 MB together). require() loads ES modules synchronously on Node 24, so the call sites
// stay synchronous.

const require = createRequire(import.meta.url);

export function loadPg(): typeof pg {
  return require('pg') as typeof pg;
}

export function loadIoredis(): typeof Ioredis {
  return require('ioredis') as typeof Ioredis;
}

export function loadJose(): typeof Jose {
  return require('jose') as typeof Jose;
}
