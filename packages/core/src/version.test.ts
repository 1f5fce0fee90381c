import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FEDLEARN_VERSION } from './version.js';

describe('FEDLEARN_VERSION', () => {
  it('matches the version in package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(FEDLEARN_VERSION).toBe(pkg.version);
  });
});
