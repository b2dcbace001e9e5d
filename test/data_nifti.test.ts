/**
 * segloss/data's NIfTI reader (src/data/nifti.ts): round trips through our own writer
 * (test/helpers/nifti.ts) for every data type, NIfTI-1 and -2, both byte orders, gzip or not,
 * scaling, 1D to 6D, vox_offset and spacing; files written by nibabel (scripts/nifti-fixtures.py),
 * which prove that our axis order and scaling are a real writer's; and every malformed file an
 * UnreadableFileError that names the file and says what is wrong.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { decodeNifti, type NiftiImage } from '../src/data/nifti.js';
import { UnreadableFileError } from '../src/data/types.js';
import { expectClose } from './helpers/assert.js';
import { fileOrder, writeNifti, type NiftiDatatypeName, type WriteNiftiOptions } from './helpers/nifti.js';

type Voxel = (z: number, y: number, x: number, c: number) => number;

/** Checks shape, channels and every value (exactly, after float32 rounding) against f(z, y, x, c). */
function expectVolume(image: NiftiImage, shape: number[], channels: number, f: Voxel, label: string): void {
  expect(image.shape, `${label}: shape`).toEqual(shape);
  expect(image.channels, `${label}: channels`).toBe(channels);
  const [D, H, W] = shape;
  const expected = new Float32Array(D * H * W * channels);
  for (let z = 0; z < D; z++) {
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < channels; c++) expected[((z * H + y) * W + x) * channels + c] = f(z, y, x, c);
  }
  expectClose(image.data, expected, { abs: 0, rel: 0 }, label);
}

/** The error a malformed file must give: an UnreadableFileError naming the file first. */
function unreadable(bytes: Uint8Array, file = 'imagesTr/case_007_0000.nii.gz'): string {
  try {
    decodeNifti(bytes, file);
  } catch (error) {
    expect(error).toBeInstanceOf(UnreadableFileError);
    expect((error as UnreadableFileError).file).toBe(file);
    expect((error as Error).message.startsWith(`${file}: `), (error as Error).message).toBe(true);
    return (error as Error).message;
  }
  throw new Error(`${file}: decodeNifti accepted a malformed file`);
}

// An asymmetric volume (d 3, h 4, w 5): position p = 100 z + 10 y + x tells every axis apart.
const SHAPE = [3, 4, 5];
const position = (z: number, y: number, x: number) => 100 * z + 10 * y + x;

/** Stored values per data type from p in [0, 234]: each type's sign and range exercised (uint32 > 2^31, 64-bit > 2^32). */
const STORED: Record<Exclude<NiftiDatatypeName, 'rgb24' | 'complex64' | 'binary'>, (p: number) => number> = {
  uint8: (p) => p + 20,
  int8: (p) => p - 117,
  int16: (p) => p * 137 - 16000,
  uint16: (p) => p * 279 + 1,
  int32: (p) => p * 9_000_001 - 1_000_000_000,
  uint32: (p) => p * 18_000_000 + 7,
  int64: (p) => (p - 117) * 2 ** 40 + 3,
  uint64: (p) => p * 2 ** 45 + 5,
  float32: (p) => (p - 117) * 0.37 + 0.001,
  float64: (p) => (p - 117) / 3,
};

describe('decodeNifti round trips', () => {
  for (const version of [1, 2] as const) {
    for (const littleEndian of [true, false]) {
      for (const gzip of [false, true]) {
        for (const [datatype, stored] of Object.entries(STORED)) {
          const name = `NIfTI-${version} ${littleEndian ? 'LE' : 'BE'}${gzip ? ' .gz' : ''} ${datatype}`;
          it(name, () => {
            const value: Voxel = (z, y, x) => stored(position(z, y, x));
            const bytes = writeNifti({
              shape: SHAPE, data: fileOrder(SHAPE, 1, value), datatype: datatype as NiftiDatatypeName,
              version, littleEndian, gzip, spacing: [2.5, 0.75, 0.5],
            });
            const image = decodeNifti(bytes, 'case.nii');
            expectVolume(image, SHAPE, 1, value, name);
            expect(image.type).toBe(`nifti-${version} ${datatype}`);
            expect(image.version).toBe(version);
            expect(image.spacing).toEqual([2.5, 0.75, 0.5]);
          });
        }
      }
    }
  }

  it('reads dims 4 to 7 as channels, interleaved channels last', () => {
    const value: Voxel = (z, y, x, c) => 1000 * c + position(z, y, x);
    for (const version of [1, 2] as const) {
      const four = decodeNifti(writeNifti({ shape: SHAPE, channels: 3, data: fileOrder(SHAPE, 3, value), datatype: 'int16', version }), 'four.nii');
      expectVolume(four, SHAPE, 3, value, `NIfTI-${version} 4D`);
      // dim[0] = 6 with dims 4–6 = 2, 1, 3: six channels, dim 4 varying fastest in the file.
      const six = decodeNifti(writeNifti({ shape: SHAPE, dims: [6, 5, 4, 3, 2, 1, 3, 1], data: fileOrder(SHAPE, 6, value), datatype: 'int16', version }), 'six.nii');
      expectVolume(six, SHAPE, 6, value, `NIfTI-${version} 6D`);
    }
  });

  it('reads a 2D file as a volume of depth 1, and a 1D file as one row; dims past dim[0] do not count', () => {
    const value: Voxel = (_z, y, x) => 10 * y + x;
    const plane = decodeNifti(writeNifti({ shape: [4, 5], data: fileOrder([4, 5], 1, value), datatype: 'uint8', spacing: [1, 0.7, 0.6] }), 'plane.nii');
    expectVolume(plane, [1, 4, 5], 1, value, '2D');
    expect(plane.spacing).toEqual([1, Math.fround(0.7), Math.fround(0.6)]);
    // Writers often leave the unused dims 0; dim[0] = 2 says they are not dimensions.
    const zeros = decodeNifti(writeNifti({ shape: [4, 5], dims: [2, 5, 4, 0, 0, 0, 0, 0], data: fileOrder([4, 5], 1, value), datatype: 'uint8', version: 2 }), 'zeros.nii');
    expectVolume(zeros, [1, 4, 5], 1, value, '2D with dims 3-7 = 0');
    const row = decodeNifti(writeNifti({ shape: [1, 7], dims: [1, 7, 0, 0, 0, 0, 0, 0], data: [3, 1, 4, 1, 5, 9, 2], datatype: 'int8' }), 'row.nii');
    expectVolume(row, [1, 1, 7], 1, (_z, _y, x) => [3, 1, 4, 1, 5, 9, 2][x], '1D');
  });

  it('scales by scl_slope and scl_inter when the slope is finite and non-zero', () => {
    const raw: Voxel = (z, y, x) => position(z, y, x) * 3 - 300;
    const data = fileOrder(SHAPE, 1, raw);
    for (const version of [1, 2] as const) {
      for (const littleEndian of [true, false]) {
        const decode = (slope: number, inter: number) => decodeNifti(writeNifti({ shape: SHAPE, data, datatype: 'int16', version, littleEndian, slope, inter }), 'scaled.nii');
        const tag = `NIfTI-${version} ${littleEndian ? 'LE' : 'BE'}`;
        const exact = decode(0.5, -10);
        expectVolume(exact, SHAPE, 1, (z, y, x) => raw(z, y, x, 0) * 0.5 - 10, `${tag} slope 0.5 inter -10`);
        expect(exact.type).toBe(`nifti-${version} int16 scaled`);
        // 0.1 and 0.3 are not binary fractions: NIfTI-1 stores them as float32, NIfTI-2 as float64,
        // and the product is taken in float64 and rounded once.
        const [slope, inter] = version === 1 ? [Math.fround(0.1), Math.fround(0.3)] : [0.1, 0.3];
        expectVolume(decode(0.1, 0.3), SHAPE, 1, (z, y, x) => raw(z, y, x, 0) * slope + inter, `${tag} slope 0.1 inter 0.3`);
        for (const [s, i] of [[0, 5], [NaN, 5], [Infinity, 5], [1, 0]]) {
          const unscaled = decode(s, i);
          expectVolume(unscaled, SHAPE, 1, raw, `${tag} slope ${s} inter ${i}: stored values`);
          expect(unscaled.type).toBe(`nifti-${version} int16`);
        }
        expectVolume(decode(2, NaN), SHAPE, 1, (z, y, x) => raw(z, y, x, 0) * 2, `${tag} slope 2, inter NaN read as 0`);
      }
    }
  });

  it('reports pixdim as spacing [z, y, x] in mm', () => {
    const decodeWith = (o: Partial<WriteNiftiOptions>) => decodeNifti(writeNifti({ shape: SHAPE, data: new Array(60).fill(0), datatype: 'uint8', ...o }), 'spacing.nii').spacing;
    expect(decodeWith({ spacing: [3, 0.5, 0.25], version: 2 })).toEqual([3, 0.5, 0.25]);
    expectClose(decodeWith({ spacing: [0.003, 0.0005, 0.00025], units: 1, version: 2 }), [3, 0.5, 0.25], { abs: 0, rel: 1e-12 }, 'metres');
    expectClose(decodeWith({ spacing: [3000, 500, 250], units: 3, version: 2 }), [3, 0.5, 0.25], { abs: 0, rel: 1e-12 }, 'microns');
    expect(decodeWith({ spacing: [2, 1.5, 1.25], units: 0 })).toEqual([2, 1.5, 1.25]); // units unknown: mm
    // 0 means "not set" (1 mm); a negative size is its magnitude.
    expect(decodeWith({ spacing: [0, -1.5, 1.25] })).toEqual([1, 1.5, 1.25]);
  });

  it('starts the data at vox_offset, after any extensions; a single file never starts before byte 352 / 544', () => {
    const value: Voxel = (z, y, x) => position(z, y, x);
    const data = fileOrder(SHAPE, 1, value);
    for (const version of [1, 2] as const) {
      // 0xab fills the bytes between header and data: read as data, the values would be wrong.
      expectVolume(decodeNifti(writeNifti({ shape: SHAPE, data, datatype: 'int16', version, voxOffset: 1024 }), 'ext.nii'), SHAPE, 1, value, `NIfTI-${version} vox_offset 1024`);
      expectVolume(decodeNifti(writeNifti({ shape: SHAPE, data, datatype: 'int16', version, headerVoxOffset: 0 }), 'zero.nii'), SHAPE, 1, value, `NIfTI-${version} vox_offset 0`);
    }
  });

  it('reads bytes that are a view at an odd offset into a larger buffer (as Node Buffers often are)', () => {
    const value: Voxel = (z, y, x) => position(z, y, x) - 0.5;
    for (const gzip of [false, true]) {
      const bytes = writeNifti({ shape: SHAPE, data: fileOrder(SHAPE, 1, value), datatype: 'float64', littleEndian: false, gzip });
      const backing = new Uint8Array(bytes.length + 10).fill(0x55);
      backing.set(bytes, 3);
      expectVolume(decodeNifti(backing.subarray(3, 3 + bytes.length), 'view.nii'), SHAPE, 1, value, `view${gzip ? ' .gz' : ''}`);
    }
  });

  it('reads a gzip file of several members (bgzip, cat a.gz b.gz)', () => {
    const bytes = writeNifti({ shape: SHAPE, data: fileOrder(SHAPE, 1, position), datatype: 'int16' });
    const members = [gzipSync(bytes.subarray(0, 400)), gzipSync(bytes.subarray(400))];
    const joined = new Uint8Array(members[0].length + members[1].length);
    joined.set(members[0]);
    joined.set(members[1], members[0].length);
    expectVolume(decodeNifti(joined, 'members.nii.gz'), SHAPE, 1, position, 'two gzip members');
  });
});

interface Fixture {
  file: string;
  gzip: boolean;
  version: 1 | 2;
  littleEndian: boolean;
  datatype: string;
  slope: number;
  inter: number;
  shape: number[];
  channels: number;
  spacing: number[];
  values: number[];
}

describe('decodeNifti on files written by nibabel (test/fixtures/nifti, scripts/nifti-fixtures.py)', () => {
  const dir = new URL('./fixtures/nifti/', import.meta.url);
  const { fixtures } = JSON.parse(readFileSync(new URL('expected.json', dir), 'utf8')) as { fixtures: Fixture[] };

  it('has the three fixtures, in the conventions they are meant to cover', () => {
    expect(fixtures.map((f) => [f.file, f.version, f.littleEndian, f.gzip, f.channels])).toEqual([
      ['v1_int16_scaled.nii.gz', 1, true, true, 1],
      ['v1_float32_be_4d.nii', 1, false, false, 2],
      ['v2_uint16_2d.nii.gz', 2, true, true, 1],
    ]);
  });

  for (const f of fixtures) {
    it(`${f.file}: shape, channels, spacing and every value as nibabel reads them`, () => {
      const bytes = new Uint8Array(readFileSync(new URL(f.file, dir)));
      expect(bytes[0] === 0x1f && bytes[1] === 0x8b).toBe(f.gzip);
      const image = decodeNifti(bytes, f.file);
      expect(image.version).toBe(f.version);
      const scaled = !(f.slope === 1 && f.inter === 0);
      expect(image.type).toBe(`nifti-${f.version} ${f.datatype}${scaled ? ' scaled' : ''}`);
      expect(image.shape).toEqual(f.shape);
      expect(image.channels).toBe(f.channels);
      expect(image.spacing).toEqual(f.spacing);
      expectClose(image.data, f.values, { abs: 0, rel: 0 }, f.file);
    });
  }
});

describe('decodeNifti on malformed files', () => {
  const volume = (o: Partial<WriteNiftiOptions> = {}) => writeNifti({ shape: SHAPE, data: fileOrder(SHAPE, 1, position), datatype: 'int16', ...o });
  const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, ...new Array(600).fill(7)]);

  it('an empty file', () => {
    expect(unreadable(new Uint8Array(0))).toMatch(/the file is empty \(0 bytes\)/);
  });

  it('a file that is not NIfTI says what it looks like', () => {
    expect(unreadable(PNG)).toMatch(/not a NIfTI file: it is a PNG image/);
    expect(unreadable(gzipSync(PNG))).toMatch(/not a NIfTI file inside the gzip stream: it is a PNG image/);
    expect(unreadable(new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new Array(400).fill(0)]))).toMatch(/it is a JPEG image/);
    expect(unreadable(new TextEncoder().encode('hello, this is not a volume'.repeat(20)))).toMatch(/not a NIfTI file: its first 4 bytes are 68 65 6c 6c, where a NIfTI file starts with its header size, 348 or 540/);
    expect(unreadable(new Uint8Array([0x5c, 0x01]))).toMatch(/not a NIfTI file: it has only 2 bytes/);
    expect(unreadable(gzipSync(gzipSync(volume())))).toMatch(/not a NIfTI file inside the gzip stream: it is compressed twice/);
  });

  it('a truncated or corrupt gzip stream', () => {
    // Incompressible data, so that half of the .gz really cuts the deflate stream.
    let s = 1;
    const noise = Array.from({ length: 4000 }, () => ((s = Math.imul(s, 48271) % 2147483647) & 0x7fff) - 16384);
    const gz = writeNifti({ shape: [10, 20, 20], data: noise, datatype: 'int16', gzip: true });
    expect(unreadable(gz.subarray(0, gz.length >> 1))).toMatch(/the gzip data is truncated or corrupt \(unexpected EOF\)/);
    expect(unreadable(gz.subarray(0, 10))).toMatch(/the gzip data is truncated: 10 bytes that decompress to nothing/);
    // A deflate block of the reserved type 3: a stream no gzip writer makes.
    expect(unreadable(new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 0x07, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0, 0]))).toMatch(/truncated or corrupt \(invalid block type\)/);
  });

  it('a file that ends inside its header', () => {
    expect(unreadable(volume().subarray(0, 200))).toMatch(/ends inside its NIfTI-1 header: 200 bytes, the header alone is 348/);
    expect(unreadable(gzipSync(volume({ version: 2 }).subarray(0, 400)))).toMatch(/ends inside its NIfTI-2 header: 400 bytes after decompression, the header alone is 540/);
  });

  it('image data shorter than the dims say, with both byte counts', () => {
    // 5 × 4 × 3 int16 = 120 bytes after the 352-byte header; 10 are missing.
    const bytes = volume();
    expect(unreadable(bytes.subarray(0, bytes.length - 10))).toMatch(/the image data is truncated: dims 5×4×3 of int16 need 120 bytes after vox_offset 352, the file holds 110$/);
    const v2 = volume({ version: 2, channels: 2, data: new Array(120).fill(1) });
    expect(unreadable(gzipSync(v2.subarray(0, 600)))).toMatch(/dims 5×4×3×2 of int16 need 240 bytes after vox_offset 544, the file \(decompressed\) holds 56$/);
    // vox_offset past the end of the file
    expect(unreadable(volume({ headerVoxOffset: 4096 }))).toMatch(/need 120 bytes after vox_offset 4096, the file holds 0$/);
    expect(unreadable(volume({ headerVoxOffset: NaN }))).toMatch(/vox_offset \(where the image data starts\) is NaN$/);
  });

  it('a dimension below 1, or a dim[0] outside 1 to 7', () => {
    expect(unreadable(volume({ dims: [3, 5, 0, 3, 1, 1, 1, 1] }))).toMatch(/dim\[2\] \(y\) is 0; every dimension must be at least 1/);
    expect(unreadable(volume({ version: 2, dims: [3, 5, 4, -3, 1, 1, 1, 1] }))).toMatch(/dim\[3\] \(z\) is -3; every dimension must be at least 1/);
    expect(unreadable(volume({ dims: [4, 5, 4, 3, 0, 1, 1, 1] }))).toMatch(/dim\[4\] \(t\) is 0/);
    expect(unreadable(volume({ dims: [0, 5, 4, 3, 1, 1, 1, 1] }))).toMatch(/dim\[0\] \(the number of dimensions\) is 0, not 1 to 7/);
    expect(unreadable(volume({ dims: [8, 5, 4, 3, 1, 1, 1, 1] }))).toMatch(/dim\[0\] \(the number of dimensions\) is 8, not 1 to 7/);
  });

  it('more than 2^31 values', () => {
    expect(unreadable(volume({ dims: [3, 2048, 2048, 1024, 1, 1, 1, 1] }))).toMatch(/its dims 2048×2048×1024 make 4294967296 values, more than the 2\^31 segloss can hold/);
    expect(unreadable(volume({ version: 2, dims: [4, 50000, 50000, 1, 2, 1, 1, 1] }))).toMatch(/its dims 50000×50000×1×2 make 5000000000 values, more than the 2\^31/);
    // A big-endian int64 dim from 2^31 up (its low word's top bit set) is still read as itself.
    expect(unreadable(volume({ version: 2, littleEndian: false, dims: [3, 3_000_000_000, 1, 1, 1, 1, 1, 1] }))).toMatch(/its dims 3000000000×1×1 make 3000000000 values/);
    // Exactly 2^31 is allowed: the complaint is then about the missing data.
    expect(unreadable(volume({ dims: [3, 2048, 1024, 1024, 1, 1, 1, 1] }))).toMatch(/need 4294967296 bytes after vox_offset 352, the file holds 120$/);
  });

  it('data types without one real value per voxel, and unknown ones', () => {
    expect(unreadable(volume({ datatype: 'rgb24' }))).toMatch(/data type RGB24 \(code 128\) is not supported; segloss reads uint8, int8, int16, uint16, int32, uint32, int64, uint64, float32, float64$/);
    expect(unreadable(volume({ datatype: 'complex64', version: 2 }))).toMatch(/data type complex64 \(code 32\) is not supported/);
    expect(unreadable(volume({ datatype: 'binary' }))).toMatch(/data type 1-bit binary \(code 1\) is not supported/);
    const unknown = volume();
    new DataView(unknown.buffer).setInt16(70, 999, true);
    expect(unreadable(unknown)).toMatch(/unknown data type code 999; segloss reads uint8/);
  });

  it('an ANALYZE header without the NIfTI magic, and the header of a .hdr/.img pair', () => {
    expect(unreadable(volume({ magic: '\0\0\0\0' }))).toMatch(/the header size says NIfTI-1, but the magic is '\\0\\0\\0\\0', not 'n\+1\\0' \(an ANALYZE 7\.5 file\?\)/);
    expect(unreadable(volume({ magic: 'ni1\0' }))).toMatch(/the header of a \.hdr\/\.img pair \(magic 'ni1\\0'\); segloss reads single-file \.nii or \.nii\.gz/);
    // NIfTI-2's magic ends in \r\n\x1a\n to catch text-mode transfers, which turn \r\n into \n.
    expect(unreadable(volume({ version: 2, magic: 'n+2\0\n\x1a\n\0' }))).toMatch(/NIfTI-2, but the magic is 'n\+2\\0\\x0a\\x1a\\x0a\\0', not 'n\+2\\0\\x0d\\x0a\\x1a\\x0a'/);
  });
});
