/**
 * Tile: out = x repeated reps[d] times along each axis d, for elements of any byte size, by
 * copying memory only. The dimensions come as a table of four i32 per axis, outermost first
 * (JS merges axes beforehand so that the innermost copy is as long as it can be):
 *   [size_d, reps_d, inStrideBytes_d, outStrideBytes_d]
 * Along axis d the output's first size_d blocks (each out-stride long) are the input's blocks,
 * tiled along the inner axes recursively; the rest repeat that span, copied by doubling (a copy of
 * everything filled so far), so a [1, 1, 1, C] vector tiled to [N, H, W, C] — batch norm's
 * gradient in tfjs — takes log₂(N·H·W) copies instead of N·H·W·C element moves.
 */

/**
 * @param x      address of the input
 * @param out    address of the output (size Π size_d·reps_d elements)
 * @param table  address of the axis table above
 * @param rank   number of axes in the table (≥ 1)
 * @param bytes  bytes per element
 */
export function tile_bytes(x: usize, out: usize, table: usize, rank: i32, bytes: i32): void {
  tileAxis(x, out, table, 0, rank, bytes);
}

function tileAxis(x: usize, out: usize, table: usize, d: i32, rank: i32, bytes: i32): void {
  const row = table + (<usize>d << 4);
  const size = <usize>load<i32>(row);
  const reps = <usize>load<i32>(row, 4);
  const inStride = <usize>load<i32>(row, 8);
  const outStride = <usize>load<i32>(row, 12);
  if (d == rank - 1) {
    memory.copy(out, x, size * <usize>bytes);
  } else {
    for (let i: usize = 0; i < size; i++) tileAxis(x + i * inStride, out + i * outStride, table, d + 1, rank, bytes);
  }
  const span = size * outStride;
  const total = span * reps;
  let filled = span;
  while (filled < total) {
    const n = min<usize>(filled, total - filled);
    memory.copy(out + filled, out, n);
    filled += n;
  }
}

/**
 * Copies `rows` rows of `rowBytes` bytes from src (rows `srcStride` bytes apart) to dst (rows
 * `dstStride` bytes apart): a strided slice along one axis, as SplitV's outputs are.
 */
export function copy_rows(src: usize, srcStride: usize, dst: usize, dstStride: usize, rowBytes: usize, rows: i32): void {
  for (let r: i32 = 0; r < rows; r++) {
    memory.copy(dst, src, rowBytes);
    src += srcStride;
    dst += dstStride;
  }
}
