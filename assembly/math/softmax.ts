/**
 * The softmax numerators of a channel-major tile (C vectors, one lane per pixel; see
 * `gather_tile_f32x4`), shared by the C % 4 = 0 paths of every loss kernel.
 */
import { exp_neg_f32x4 } from './exp';

/**
 * m = lane-wise max over the tile's C vectors at `zTile`; writes e_c = exp(z_c − m) to `eTile`
 * (which may be `zTile`) and, with `keepShifted`, z_c − m back to `zTile`; returns s = Σ_c e_c.
 */
// @ts-ignore: decorator
@inline export function tile_exp_sum_f32x4(zTile: usize, eTile: usize, tileBytes: usize, keepShifted: bool): v128 {
  let m = v128.load(zTile);
  for (let o: usize = 16; o < tileBytes; o += 16) m = f32x4.pmax(m, v128.load(zTile + o));
  let s = f32x4.splat(0);
  for (let o: usize = 0; o < tileBytes; o += 16) {
    const zm = f32x4.sub(v128.load(zTile + o), m);
    const e = exp_neg_f32x4(zm);
    if (keepShifted) v128.store(zTile + o, zm);
    v128.store(eTile + o, e);
    s = f32x4.add(s, e);
  }
  return s;
}
