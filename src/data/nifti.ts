/**
 * Decoding NIfTI volumes (`.nii` and `.nii.gz`, NIfTI-1 and NIfTI-2, little- and big-endian) into
 * segloss's DecodedImage: shape [depth, height, width], channels last, float32 after scaling.
 * Pure JavaScript (nifti-reader-js for the header fields, fflate for gzip), so a file decodes to the
 * same numbers in Node and in every browser.
 *
 * - **Axes**: NIfTI stores x fastest, then y, z, then dims 4–7; dim[1] = x is our width, dim[2] = y
 *   our height, dim[3] = z our depth, and dims 4–7 together are the channels (a 4D file's
 *   modalities or time points), so voxel (z, y, x) channel c is `data[((z·H + y)·W + x)·C + c]`.
 *   A 2D file (dim[0] = 2) is a volume of depth 1.
 * - **No reorientation**: the affine (qform/sform) is not applied. segloss trains on the voxel grid
 *   as stored, as nnU-Net does when it does not resample: an image and its label volume from the same
 *   scanner share that grid, and a network needs nothing more. `spacing` reports pixdim in mm.
 * - **Scaling**: when scl_slope is finite and non-zero, values are `stored × scl_slope + scl_inter`,
 *   computed in float64 and rounded once to float32 (the standard's rule; NaN or 0 means unscaled).
 *
 * Every malformed file is an UnreadableFileError that names the file and says what is wrong in
 * words a user can act on. Where nifti-reader-js falls short, we do the work
 * ourselves: its isCompressed() says "gzip" when either magic byte matches, its decompress() trusts
 * the size in the gzip trailer (garbage in a truncated file) and stops after the first gzip member,
 * its readImage() neither checks the data's length nor counts dims 6 and 7, and its 64-bit reads
 * get negative NIfTI-2 dims wrong. We use it for the header's other fields.
 */
import { Gunzip } from 'fflate';
import * as nifti from 'nifti-reader-js';
import { UnreadableFileError, shapeText, type DecodedImage } from './types.js';

export interface NiftiImage extends DecodedImage {
  /** Voxel size in mm, [z, y, x] (pixdim[3], pixdim[2], pixdim[1]); 1 where the header leaves it 0. */
  spacing: [number, number, number];
  version: 1 | 2;
}

interface Datatype {
  name: string;
  bytes: number;
  read: (view: DataView, at: number, littleEndian: boolean) => number;
}

/** The data types segloss reads (NIfTI datatype code → reader). 64-bit integers go through BigInt. */
const DATATYPES = new Map<number, Datatype>([
  [2, { name: 'uint8', bytes: 1, read: (v, at) => v.getUint8(at) }],
  [256, { name: 'int8', bytes: 1, read: (v, at) => v.getInt8(at) }],
  [4, { name: 'int16', bytes: 2, read: (v, at, le) => v.getInt16(at, le) }],
  [512, { name: 'uint16', bytes: 2, read: (v, at, le) => v.getUint16(at, le) }],
  [8, { name: 'int32', bytes: 4, read: (v, at, le) => v.getInt32(at, le) }],
  [768, { name: 'uint32', bytes: 4, read: (v, at, le) => v.getUint32(at, le) }],
  [1024, { name: 'int64', bytes: 8, read: (v, at, le) => Number(v.getBigInt64(at, le)) }],
  [1280, { name: 'uint64', bytes: 8, read: (v, at, le) => Number(v.getBigUint64(at, le)) }],
  [16, { name: 'float32', bytes: 4, read: (v, at, le) => v.getFloat32(at, le) }],
  [64, { name: 'float64', bytes: 8, read: (v, at, le) => v.getFloat64(at, le) }],
]);

/** Data types the standard defines that have no single real value per voxel (or no JS float to hold it). */
const UNSUPPORTED = new Map<number, string>([
  [1, '1-bit binary'],
  [32, 'complex64'],
  [128, 'RGB24'],
  [1536, 'float128'],
  [1792, 'complex128'],
  [2048, 'complex256'],
  [2304, 'RGBA32'],
]);

const SUPPORTED_NAMES = [...DATATYPES.values()].map((t) => t.name).join(', ');
const AXIS_NAMES = ['', 'x', 'y', 'z', 't', 'dim 5', 'dim 6', 'dim 7'];
const MAX_VALUES = 2 ** 31;

/** Per version: header size, where the magic is, the magic of a single-file and of a .hdr/.img pair. */
const LAYOUT = {
  1: { headerBytes: 348, magicAt: 344, single: 'n+1\0', pair: 'ni1\0' },
  2: { headerBytes: 540, magicAt: 4, single: 'n+2\0\r\n\x1a\n', pair: 'ni2\0\r\n\x1a\n' },
} as const;

/** xyzt_units & 7 → millimetres per unit (0 = unknown is read as mm, as every viewer does). */
const MM_PER_UNIT: Record<number, number> = { 1: 1000, 3: 0.001 };

/**
 * Decodes a `.nii` or `.nii.gz` file (gzip is recognised by its magic bytes, not by the name).
 * `file` names the file in error messages.
 */
export function decodeNifti(bytes: Uint8Array, file: string): NiftiImage {
  const fail = (reason: string): never => {
    throw new UnreadableFileError(file, reason);
  };
  if (bytes.length === 0) fail('the file is empty (0 bytes)');
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  const raw = gzipped ? gunzip(bytes, fail) : bytes;
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const inside = gzipped ? ' inside the gzip stream' : '';

  const format = detectFormat(view);
  if (!format) fail(`not a NIfTI file${inside}: ${describeStart(raw)}`);
  const { version, littleEndian } = format!;
  const layout = LAYOUT[version];
  if (raw.length < layout.headerBytes) {
    fail(`the file ends inside its NIfTI-${version} header: ${raw.length} bytes${gzipped ? ' after decompression' : ''}, the header alone is ${layout.headerBytes}`);
  }
  const magic = textAt(raw, layout.magicAt, layout.single.length);
  if (magic === layout.pair) {
    fail(`this is the header of a .hdr/.img pair (magic '${printable(magic)}'); segloss reads single-file .nii or .nii.gz (convert it, e.g. with nibabel)`);
  }
  if (magic !== layout.single) {
    fail(`not a NIfTI file: the header size says NIfTI-${version}, but the magic is '${printable(magic)}', not '${printable(layout.single)}'${version === 1 ? ' (an ANALYZE 7.5 file?)' : ''}`);
  }

  let header: nifti.NIFTI1 | nifti.NIFTI2;
  try {
    header = version === 1 ? new nifti.NIFTI1() : new nifti.NIFTI2();
    // Only the fixed-size header: nifti-reader-js would otherwise also parse extensions, which
    // segloss does not use and which should not make an otherwise good file unreadable.
    header.readHeader(raw.slice(0, layout.headerBytes).buffer);
  } catch (error) {
    return fail(`the NIfTI-${version} header cannot be read (${(error as Error).message})`);
  }

  // nifti-reader-js 0.8 reads NIfTI-2's int64 fields wrong when negative (it sign-extends twice:
  // -3 becomes -3 - 2^64) and, in big-endian files, from 2^31 up: we read those two ourselves.
  const dims = version === 2 ? [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Number(view.getBigInt64(16 + 8 * i, littleEndian))) : header.dims;
  const voxOffset = version === 2 ? Number(view.getBigInt64(168, littleEndian)) : header.vox_offset;
  const rank = dims[0];
  if (!(Number.isInteger(rank) && rank >= 1 && rank <= 7)) fail(`dim[0] (the number of dimensions) is ${rank}, not 1 to 7`);
  for (let i = 1; i <= rank; i++) {
    if (!(dims[i] >= 1)) fail(`dim[${i}] (${AXIS_NAMES[i]}) is ${dims[i]}; every dimension must be at least 1`);
  }
  // Dims beyond dim[0] are unused by the standard and often left 0: they must not count.
  const width = dims[1];
  const height = rank >= 2 ? dims[2] : 1;
  const depth = rank >= 3 ? dims[3] : 1;
  let channels = 1;
  for (let i = 4; i <= rank; i++) channels *= dims[i];
  const shape = [depth, height, width];
  const dimsText = `${shapeText(shape)}${channels > 1 ? `×${channels}` : ''}`;
  const values = width * height * depth * channels;
  if (values > MAX_VALUES) fail(`its dims ${dimsText} make ${values} values, more than the 2^31 segloss can hold`);

  const code = header.datatypeCode;
  const type = DATATYPES.get(code);
  if (!type) {
    const unsupported = UNSUPPORTED.get(code);
    fail(unsupported
      ? `data type ${unsupported} (code ${code}) is not supported; segloss reads ${SUPPORTED_NAMES}`
      : `unknown data type code ${code}; segloss reads ${SUPPORTED_NAMES}`);
  }
  // bitpix is not consulted: the datatype code decides the size, as in nibabel (which repairs a
  // bitpix that disagrees with it).
  const { name, bytes: size, read } = type!;

  // vox_offset is a float in NIfTI-1; a single file's data cannot start inside the header and its
  // 4 extension bytes, so a smaller value (often 0) means "right after them", as nibabel reads it.
  const minOffset = layout.headerBytes + 4;
  const offset = Math.max(Math.floor(voxOffset), minOffset);
  if (!Number.isFinite(offset)) fail(`vox_offset (where the image data starts) is ${voxOffset}`);
  const needed = values * size;
  const available = Math.max(raw.length - offset, 0);
  if (available < needed) {
    fail(`the image data is truncated: dims ${dimsText} of ${name} need ${needed} bytes after vox_offset ${offset}, the file${gzipped ? ' (decompressed)' : ''} holds ${available}`);
  }

  const slope = header.scl_slope;
  const intercept = Number.isFinite(header.scl_inter) ? header.scl_inter : 0;
  // slope 1, intercept 0 is what many writers put in unscaled files: not worth a word in the type.
  const scaled = Number.isFinite(slope) && slope !== 0 && !(slope === 1 && intercept === 0);
  const data = new Float32Array(values);
  const spatial = width * height * depth;
  for (let c = 0; c < channels; c++) {
    // The file holds channel c as one contiguous block; we interleave it with stride `channels`.
    let at = offset + c * spatial * size;
    if (scaled) {
      for (let o = c; o < values; o += channels, at += size) data[o] = read(view, at, littleEndian) * slope + intercept;
    } else {
      for (let o = c; o < values; o += channels, at += size) data[o] = read(view, at, littleEndian);
    }
  }

  const mmPerUnit = MM_PER_UNIT[header.xyzt_units & 7] ?? 1;
  const spacingOf = (i: number): number => {
    const p = Math.abs(header.pixDims[i]);
    return (Number.isFinite(p) && p > 0 ? p : 1) * mmPerUnit;
  };
  return {
    shape,
    channels,
    data,
    type: `nifti-${version} ${name}${scaled ? ' scaled' : ''}`,
    spacing: [spacingOf(3), spacingOf(2), spacingOf(1)],
    version,
  };
}

/**
 * Inflates a whole gzip file, every member of it (bgzip and `cat a.gz b.gz` write several), with
 * fflate's streaming Gunzip: unlike gunzipSync it does not size its output from the trailer, which
 * in a truncated file is whatever bytes happen to be last.
 */
function gunzip(bytes: Uint8Array, fail: (reason: string) => never): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0;
  try {
    const stream = new Gunzip((chunk) => {
      chunks.push(chunk);
      length += chunk.length;
    });
    stream.push(bytes, true);
  } catch (error) {
    fail(`the gzip data is truncated or corrupt (${(error as Error).message})`);
  }
  if (length === 0) fail(`the gzip data is truncated: ${bytes.length} bytes that decompress to nothing`);
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** NIfTI has no magic at byte 0; sizeof_hdr (348 or 540, in the file's byte order) is the first field. */
function detectFormat(view: DataView): { version: 1 | 2; littleEndian: boolean } | null {
  if (view.byteLength < 4) return null;
  for (const littleEndian of [true, false]) {
    const size = view.getInt32(0, littleEndian);
    if (size === 348) return { version: 1, littleEndian };
    if (size === 540) return { version: 2, littleEndian };
  }
  return null;
}

/** What a file that is not NIfTI starts like, for the error message. */
function describeStart(raw: Uint8Array): string {
  const startsWith = (...signature: number[]) => signature.every((b, i) => raw[i] === b);
  if (startsWith(0x89, 0x50, 0x4e, 0x47)) return 'it is a PNG image';
  if (startsWith(0xff, 0xd8, 0xff)) return 'it is a JPEG image';
  if (startsWith(0x1f, 0x8b)) return 'it is compressed twice (gzip inside gzip)';
  if (raw.length >= 132 && textAt(raw, 128, 4) === 'DICM') return 'it is a DICOM file (convert it to NIfTI, e.g. with dcm2niix)';
  if (raw.length < 4) return `it has only ${raw.length} bytes`;
  const first = [...raw.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
  return `its first 4 bytes are ${first}, where a NIfTI file starts with its header size, 348 or 540`;
}

function textAt(raw: Uint8Array, at: number, length: number): string {
  return String.fromCharCode(...raw.subarray(at, at + length));
}

/** A magic string as the user can read it in a message (NULs and control bytes escaped). */
function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, (c) => (c === '\0' ? '\\0' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}
