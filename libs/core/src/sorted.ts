/** How many values of an ascending array are greater than `limit` (binary search: score and train call it on every row length). */
export function countAbove(sorted: readonly number[], limit: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] > limit) hi = mid;
    else lo = mid + 1;
  }
  return sorted.length - lo;
}
