import { describe, expect, it } from 'vitest';
import { countAbove } from './sorted';

describe('countAbove', () => {
  it('counts the values strictly greater than the limit, as a linear scan would', () => {
    const values = [1, 2, 2, 3, 5, 8, 8, 8, 13];
    for (const limit of [-1, 0, 1, 2, 3, 4, 8, 12, 13, 20]) {
      expect(countAbove(values, limit)).toBe(values.filter((v) => v > limit).length);
    }
    expect(countAbove([], 3)).toBe(0);
  });
});
