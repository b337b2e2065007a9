/**
 * Number columns that grow as rows are appended: a whole-store read held as typed arrays (8 bytes a
 * value) rather than as one object per row. Capacity doubles, so appending n rows copies O(n) values.
 *
 * @example
 *   const c = new GrowingColumns(['id', 'x'] as const);
 *   const i = c.add(); c.data.id[i] = 7; c.data.x[i] = 2.5;
 *   const { id, x } = c.trimmed(); // Float64Array views of length c.length
 */
export class GrowingColumns<K extends string> {
  #length = 0;
  #capacity: number;
  /** The columns, `capacity` long; read `data[name]` again after `add`, which may replace them. */
  data: Record<K, Float64Array>;

  constructor(
    readonly names: readonly K[],
    capacity = 1024,
  ) {
    this.#capacity = Math.max(1, capacity);
    this.data = Object.fromEntries(names.map((n) => [n, new Float64Array(this.#capacity)])) as Record<K, Float64Array>;
  }

  get length(): number {
    return this.#length;
  }

  /** Makes room for one more row and returns its index. */
  add(): number {
    if (this.#length === this.#capacity) {
      this.#capacity *= 2;
      for (const name of this.names) {
        const grown = new Float64Array(this.#capacity);
        grown.set(this.data[name]);
        this.data[name] = grown;
      }
    }
    return this.#length++;
  }

  /** The columns cut to `length` (copies, so the spare capacity is freed). */
  trimmed(): Record<K, Float64Array> {
    return Object.fromEntries(this.names.map((n) => [n, this.data[n].slice(0, this.#length)])) as Record<
      K,
      Float64Array
    >;
  }
}

/**
 * The `[from, to)` ranges of `size` ids that cover `lo..hi` (both inclusive), in order; none when
 * either bound is missing (an empty table's `min`/`max`). A whole-store read runs one query per range.
 */
export function idRanges(
  lo: number | string | null | undefined,
  hi: number | string | null | undefined,
  size: number,
): Array<readonly [number, number]> {
  if (lo === null || lo === undefined || hi === null || hi === undefined) return [];
  const ranges: Array<readonly [number, number]> = [];
  for (let from = Number(lo); from <= Number(hi); from += size) ranges.push([from, from + size]);
  return ranges;
}
