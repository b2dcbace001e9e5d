/**
 * A small NIfTI-1 / NIfTI-2 writer for tests: every data type, both byte orders, gzip or not,
 * scaling, 2D to 7D, and the raw header fields (dims, magic, vox_offset, bitpix) that malformed-file
 * tests need to get wrong on purpose. It is a dumb serialiser: `data` is given in the file's own
 * order (x fastest, then y, z, then dims 4–7), so the reader's axis handling is checked against
 * index formulas in the tests, not against a transposition written twice. Field offsets are those
 * of nifti1.h and nifti2.h.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'fflate';

export type NiftiDatatypeName =
  | 'uint8' | 'int8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'float32' | 'float64'
  | 'rgb24' | 'complex64' | 'binary';

/** NIfTI datatype code and bytes per voxel (rgb24 and complex64 are written for the "unsupported" tests). */
export const NIFTI_DATATYPES: Record<NiftiDatatypeName, { code: number; bytes: number }> = {
  uint8: { code: 2, bytes: 1 },
  int8: { code: 256, bytes: 1 },
  int16: { code: 4, bytes: 2 },
  uint16: { code: 512, bytes: 2 },
  int32: { code: 8, bytes: 4 },
  uint32: { code: 768, bytes: 4 },
  int64: { code: 1024, bytes: 8 },
  uint64: { code: 1280, bytes: 8 },
  float32: { code: 16, bytes: 4 },
  float64: { code: 64, bytes: 8 },
  rgb24: { code: 128, bytes: 3 },
  complex64: { code: 32, bytes: 8 },
  binary: { code: 1, bytes: 1 },
};

export interface WriteNiftiOptions {
  /** [depth, height, width] (dim[0] = 3, or more with channels) or [height, width] (dim[0] = 2). */
  shape: number[];
  /** dim[4] (dim[0] becomes 4 when > 1). */
  channels?: number;
  /** Values in file order: x fastest, then y, z, channel. Integers must fit the data type. */
  data: ArrayLike<number>;
  datatype: NiftiDatatypeName;
  version?: 1 | 2;
  littleEndian?: boolean;
  slope?: number;
  inter?: number;
  /** [z, y, x] voxel size (pixdim[3], pixdim[2], pixdim[1]); default 1 each. */
  spacing?: number[];
  /** xyzt_units (default 2: mm). */
  units?: number;
  gzip?: boolean;
  /** Where the data starts (default 352 / 544); the bytes between header and data are filled with 0xab. */
  voxOffset?: number;
  /** The vox_offset written in the header, when it should differ from where the data really is. */
  headerVoxOffset?: number;
  /** Raw dim[0..7], replacing what shape and channels say. */
  dims?: number[];
  bitpix?: number;
  /** Replaces the magic ('n+1\0', or 'n+2\0\r\n\x1a\n'). */
  magic?: string;
}

export function writeNifti(o: WriteNiftiOptions): Uint8Array {
  const version = o.version ?? 1;
  const le = o.littleEndian ?? true;
  const type = NIFTI_DATATYPES[o.datatype];
  const headerBytes = version === 1 ? 348 : 540;
  const voxOffset = o.voxOffset ?? headerBytes + 4;
  const channels = o.channels ?? 1;
  const dims = o.dims ?? (o.shape.length === 2
    ? [2, o.shape[1], o.shape[0], 1, 1, 1, 1, 1]
    : [channels > 1 ? 4 : 3, o.shape[2], o.shape[1], o.shape[0], channels, 1, 1, 1]);
  const spacing = o.spacing ?? [1, 1, 1];
  const pixdim = [1, spacing[2], spacing[1], spacing[0], 1, 1, 1, 1];

  const out = new Uint8Array(voxOffset + o.data.length * type.bytes);
  out.fill(0xab, headerBytes + 4, voxOffset);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => {
    for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
  };
  if (version === 1) {
    v.setInt32(0, 348, le);
    for (let i = 0; i < 8; i++) v.setInt16(40 + 2 * i, dims[i] ?? 0, le);
    v.setInt16(70, type.code, le);
    v.setInt16(72, o.bitpix ?? type.bytes * 8, le);
    for (let i = 0; i < 8; i++) v.setFloat32(76 + 4 * i, pixdim[i], le);
    v.setFloat32(108, o.headerVoxOffset ?? voxOffset, le);
    v.setFloat32(112, o.slope ?? NaN, le);
    v.setFloat32(116, o.inter ?? NaN, le);
    out[123] = o.units ?? 2;
    text(344, o.magic ?? 'n+1\0');
  } else {
    v.setInt32(0, 540, le);
    text(4, o.magic ?? 'n+2\0\r\n\x1a\n');
    v.setInt16(12, type.code, le);
    v.setInt16(14, o.bitpix ?? type.bytes * 8, le);
    for (let i = 0; i < 8; i++) v.setBigInt64(16 + 8 * i, BigInt(dims[i] ?? 0), le);
    for (let i = 0; i < 8; i++) v.setFloat64(104 + 8 * i, pixdim[i], le);
    v.setBigInt64(168, BigInt(o.headerVoxOffset ?? voxOffset), le);
    v.setFloat64(176, o.slope ?? NaN, le);
    v.setFloat64(184, o.inter ?? NaN, le);
    v.setInt32(500, o.units ?? 2, le);
  }

  for (let i = 0; i < o.data.length; i++) {
    const at = voxOffset + i * type.bytes;
    const x = o.data[i];
    switch (o.datatype) {
      case 'uint8': case 'binary': v.setUint8(at, x); break;
      case 'int8': v.setInt8(at, x); break;
      case 'int16': v.setInt16(at, x, le); break;
      case 'uint16': v.setUint16(at, x, le); break;
      case 'int32': v.setInt32(at, x, le); break;
      case 'uint32': v.setUint32(at, x, le); break;
      case 'int64': v.setBigInt64(at, BigInt(x), le); break;
      case 'uint64': v.setBigUint64(at, BigInt(x), le); break;
      case 'float32': v.setFloat32(at, x, le); break;
      case 'float64': v.setFloat64(at, x, le); break;
      case 'rgb24': out.fill(x, at, at + 3); break;
      case 'complex64': v.setFloat32(at, x, le); v.setFloat32(at + 4, 0, le); break;
    }
  }
  return o.gzip ? gzipSync(out) : out;
}

/** A volume's values in NIfTI file order from f(z, y, x, c): what `writeNifti` takes as `data`. */
export function fileOrder(shape: number[], channels: number, f: (z: number, y: number, x: number, c: number) => number): number[] {
  const [d, h, w] = shape.length === 2 ? [1, ...shape] : shape;
  const out: number[] = [];
  for (let c = 0; c < channels; c++) {
    for (let z = 0; z < d; z++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out.push(f(z, y, x, c));
  }
  return out;
}

/**
 * A small Decathlon-layout folder in `dir`: three 12³ cases (a_0000.nii.gz in imagesTr/, a.nii.gz in
 * labelsTr/, …), each a sphere of class 2 inside a slab of class 1, the image 100 × the label plus
 * a ripple; for 3D training tests.
 */
export function writeSphereCases(dir: string): void {
  const shape = [12, 12, 12];
  for (const id of ['a', 'b', 'c']) {
    const labels = Array.from({ length: 12 ** 3 }, (_, i) => {
      const [z, y, x] = [Math.floor(i / 144), Math.floor(i / 12) % 12, i % 12];
      return (z - 6) ** 2 + (y - 6) ** 2 + (x - 5) ** 2 < 9 ? 2 : x > 8 ? 1 : 0;
    });
    for (const [sub, name, bytes] of [
      ['imagesTr', `${id}_0000.nii.gz`, writeNifti({ shape, data: labels.map((v, i) => 100 * v + (i % 7)), datatype: 'int16', gzip: true })],
      ['labelsTr', `${id}.nii.gz`, writeNifti({ shape, data: labels, datatype: 'uint8', gzip: true })],
    ] as const) {
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, name), bytes);
    }
  }
}
