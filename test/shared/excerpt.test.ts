import { describe, expect, it } from 'vitest';
import { excerpt } from '../../src/shared/excerpt.js';

describe('excerpt', () => {
  it('keeps text within the bound as it is', () => {
    expect(excerpt('abc', 3)).toBe('abc');
    expect(excerpt('', 0)).toBe('');
  });

  it('says it cut: at most max characters, the last one "…"', () => {
    expect(excerpt('abcdef', 4)).toBe('abc…');
    expect(excerpt('a'.repeat(135), 100)).toHaveLength(100);
    expect(excerpt('a'.repeat(135), 100).endsWith('a…')).toBe(true);
  });

  it('never leaves half of a surrogate pair', () => {
    expect(excerpt('ab😀cd', 4)).toBe('ab…');
    expect(excerpt('ab😀cd', 5)).toBe('ab😀…');
  });
});
