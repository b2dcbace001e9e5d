/**
 * Decoding 2D images and masks: PNG (fast-png: 1- to 16-bit, grey, grey + alpha, RGB, RGBA,
 * palette, interlaced) and JPEG (jpeg-js), both pure JavaScript, so a file decodes to the same
 * numbers in Node and in every browser (createImageBitmap and canvas may colour-manage or
 * premultiply, and browsers' JPEG decoders differ in their last bits). The format is read from the
 * file's first bytes, never from its name: a JPEG named .png is decoded as a JPEG, and a file that
 * is neither is an UnreadableFileError that says what it looks like.
 *
 * Alpha is dropped (grey + alpha → grey, RGBA → RGB), as PIL's convert('RGB') and Keras's
 * color_mode do; masks keep their palette indices (see masks.ts).
 */
import { decode as decodePngFile } from 'fast-png';
import jpeg from 'jpeg-js';
import { UnreadableFileError } from './types.js';

/** A decoded 2D raster, as stored: values are the file's own (0–255, 0–65535, or palette indices). */
export interface Raster {
  width: number;
  height: number;
  /** Colour channels after dropping alpha: 1 (grey or palette) or 3 (RGB). */
  channels: 1 | 3;
  /** height × width × channels values, row-major. */
  data: Uint8Array | Uint16Array;
  /** 1, 2, 4, 8 or 16 (JPEG: 8). */
  bitDepth: number;
  /** A palette PNG's colours (data then holds indices into it). */
  palette?: number[][];
  format: 'png' | 'jpeg';
  /** The alpha channel that was dropped, if any. */
  droppedAlpha: boolean;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** What a file's first bytes say it is ('png', 'jpeg', 'nifti', 'gzip', or null). */
export function sniffFormat(bytes: Uint8Array): 'png' | 'jpeg' | 'gzip' | 'nifti' | null {
  if (bytes.length >= 8 && PNG_SIGNATURE.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip';
  if (bytes.length >= 348) {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const size = view.getInt32(0, true);
    const swapped = view.getInt32(0, false);
    if (size === 348 || swapped === 348 || size === 540 || swapped === 540) return 'nifti';
  }
  return null;
}

function describe(bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const format = sniffFormat(bytes);
  if (format === 'gzip' || format === 'nifti') return `it is not a PNG or JPEG image (it looks like ${format === 'gzip' ? 'gzip data' : 'a NIfTI volume'})`;
  const text = bytes.subarray(0, 64).every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127));
  return `it is not a PNG or JPEG image (${text ? 'it holds text' : `it starts with bytes ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')}`})`;
}

/** Unpacks rows of 1-, 2- or 4-bit samples (each row starts on a byte) into one byte per sample. */
function unpackSubByte(packed: Uint8Array, width: number, height: number, depth: number): Uint8Array {
  const out = new Uint8Array(width * height);
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const bit = x * depth;
      const byte = packed[y * rowBytes + (bit >> 3)];
      out[y * width + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

function dropAlpha<T extends Uint8Array | Uint16Array>(data: T, pixels: number, from: number, to: number): T {
  const out = new (data.constructor as new (n: number) => T)(pixels * to);
  for (let i = 0; i < pixels; i++) {
    for (let c = 0; c < to; c++) out[i * to + c] = data[i * from + c];
  }
  return out;
}

function decodePng(bytes: Uint8Array, file: string): Raster {
  let png;
  try {
    png = decodePngFile(bytes);
  } catch (error) {
    throw new UnreadableFileError(file, `a damaged or truncated PNG (${(error as Error).message})`);
  }
  const { width, height, depth } = png;
  if (!(width > 0 && height > 0)) throw new UnreadableFileError(file, `a PNG of ${width}×${height} pixels`);
  const pixels = width * height;
  let data = png.data instanceof Uint16Array ? png.data : new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength);
  if (depth < 8) data = unpackSubByte(data as Uint8Array, width, height, depth);
  const expected = pixels * png.channels;
  if (data.length < expected) throw new UnreadableFileError(file, `a truncated PNG: ${data.length} of ${expected} samples`);
  if (png.palette) {
    return { width, height, channels: 1, data: data.subarray(0, pixels), bitDepth: depth, palette: png.palette.map((c) => c.slice(0, 3)), format: 'png', droppedAlpha: false };
  }
  const hasAlpha = png.channels === 2 || png.channels === 4;
  const channels = png.channels >= 3 ? 3 : 1;
  if (hasAlpha) data = dropAlpha(data, pixels, png.channels, channels);
  return { width, height, channels, data, bitDepth: depth, format: 'png', droppedAlpha: hasAlpha };
}

function decodeJpeg(bytes: Uint8Array, file: string): Raster {
  let image;
  try {
    image = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxMemoryUsageInMB: 2048, maxResolutionInMP: 400 });
  } catch (error) {
    throw new UnreadableFileError(file, `a damaged or truncated JPEG (${(error as Error).message ?? String(error)})`);
  }
  const { width, height, data } = image;
  if (!(width > 0 && height > 0) || data.length < width * height * 3) throw new UnreadableFileError(file, 'a JPEG with no image data');
  // jpeg-js expands grey JPEGs to RGB: a JPEG whose three channels agree everywhere is grey.
  let grey = true;
  for (let i = 0; i < width * height && grey; i++) grey = data[3 * i] === data[3 * i + 1] && data[3 * i] === data[3 * i + 2];
  if (grey) {
    const out = new Uint8Array(width * height);
    for (let i = 0; i < out.length; i++) out[i] = data[3 * i];
    return { width, height, channels: 1, data: out, bitDepth: 8, format: 'jpeg', droppedAlpha: false };
  }
  return { width, height, channels: 3, data: new Uint8Array(data.buffer, data.byteOffset, width * height * 3), bitDepth: 8, format: 'jpeg', droppedAlpha: false };
}

/** Decodes a PNG or JPEG (by its bytes, whatever its name). */
export function decodeRaster(bytes: Uint8Array, file: string): Raster {
  const format = sniffFormat(bytes);
  if (format === 'png') return decodePng(bytes, file);
  if (format === 'jpeg') return decodeJpeg(bytes, file);
  throw new UnreadableFileError(file, describe(bytes));
}

/** 'png 8-bit grey', 'png 16-bit rgb (alpha dropped)', 'png 4-bit palette', 'jpeg rgb'. */
export function rasterType(r: Raster): string {
  const kind = r.palette ? 'palette' : r.channels === 3 ? 'rgb' : 'grey';
  return `${r.format}${r.format === 'png' ? ` ${r.bitDepth}-bit` : ''} ${kind}${r.droppedAlpha ? ' (alpha dropped)' : ''}`;
}
