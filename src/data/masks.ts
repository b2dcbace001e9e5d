/**
 * From decoded rasters to what a model trains on: images as float32 values (as stored), masks as
 * class indices under every convention people save them in:
 *
 * - **class indices** as pixel values (0, 1, 2, …), grey PNGs of any depth;
 * - **binary masks stored as 0/255** (or 0/65535, or 0/1): the maximum value becomes class 1;
 * - **palette PNGs**: the palette index is the class (what PASCAL VOC's SegmentationClass PNGs
 *   do), whatever the colours;
 * - **colour-coded RGB masks** (Cityscapes-style, CamVid): a colour → class map, `{ colors:
 *   { '#000000': 0, '#ff0000': 1 } }`; the same map names grey levels (`{ '0': 0, '128': 1, '255': 2 }`)
 *   for masks that store classes as grey levels other than 0, 1, 2.
 *
 * 'auto' (the default) takes palette PNGs by index, grey masks of values {0, max} as binary and
 * small integers as indices; an RGB mask whose channels agree is grey. Anything else (a 0/128/255
 * mask, a colour mask without a map, a lossy JPEG mask's stray values) is a 'class-values' problem
 * that says what was found and which option reads it.
 */
import type { Raster } from './decode.js';
import { DataError, type DecodedImage, type DecodedLabels } from './types.js';

/** How masks store classes (see the module's header). */
export type MaskConvention = 'auto' | 'indices' | 'binary' | 'palette' | { colors: Record<string, number> };

/** In 'auto', grey values up to this are read as class indices (beyond it, a 0/128/255-like mask is more likely). */
export const MAX_AUTO_CLASSES = 64;

/** The image's values as float32, channels last; a palette image becomes RGB (or grey, if its palette is). */
export function rasterToImage(r: Raster, type: string): DecodedImage {
  const pixels = r.width * r.height;
  if (r.palette) {
    const palette = r.palette;
    const grey = palette.every((c) => c[0] === c[1] && c[1] === c[2]);
    const channels = grey ? 1 : 3;
    const data = new Float32Array(pixels * channels);
    for (let i = 0; i < pixels; i++) {
      const colour = palette[r.data[i]] ?? [0, 0, 0];
      for (let c = 0; c < channels; c++) data[i * channels + c] = colour[c];
    }
    return { shape: [r.height, r.width], channels, data, type };
  }
  return { shape: [r.height, r.width], channels: r.channels, data: Float32Array.from(r.data), type };
}

function fail(file: string, message: string): never {
  throw new DataError([{ code: 'class-values', file, message }], 'a mask cannot be read as classes');
}

const hex = (rgb: ArrayLike<number>) => `#${Array.from(rgb, (v) => v.toString(16).padStart(2, '0')).join('')}`;

/** Parses a colour key: '#rrggbb', 'r,g,b' or a grey level '128'. */
function colourKey(key: string): number[] | null {
  const k = key.trim();
  let m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(k);
  if (m) return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
  m = /^(\d+),\s*(\d+),\s*(\d+)$/.exec(k);
  if (m) return [Number(m[1]), Number(m[2]), Number(m[3])];
  if (/^\d+$/.test(k)) return [Number(k)];
  return null;
}

/** Checks a colour map (`'#ff0000'`, `'255,0,0'` or `'128'` → a class from 0 to 255); throws naming the bad entry. */
export function checkColourMap(colors: Record<string, number>): void {
  if (colors == null || typeof colors !== 'object' || Object.keys(colors).length === 0) throw new Error('masks.colors must map at least one colour to a class');
  for (const [key, cls] of Object.entries(colors)) {
    if (colourKey(key) == null) throw new Error(`masks.colors: '${key}' is not a colour ('#rrggbb', 'r,g,b') or a grey level ('128')`);
    if (!Number.isInteger(cls) || cls < 0 || cls > 255) throw new Error(`masks.colors: '${key}' maps to ${String(cls)}, not a class from 0 to 255`);
  }
}

/** Parses the CLI's `--mask-colors '#000000=0,#ff0000=1'` (or `'0=0,128=1,255=2'`; `;` also separates). */
export function parseColourMapArgument(text: string): Record<string, number> {
  const colors: Record<string, number> = {};
  for (const part of text.split(/;|,(?=\s*#)|,(?=\s*\d+\s*=)/).map((s) => s.trim()).filter(Boolean)) {
    const at = part.lastIndexOf('=');
    if (at < 0) throw new Error(`--mask-colors: '${part}' is not COLOUR=CLASS`);
    colors[part.slice(0, at).trim()] = Number(part.slice(at + 1));
  }
  checkColourMap(colors);
  return colors;
}

function byColourMap(r: Raster, file: string, colors: Record<string, number>): Uint8Array {
  const pixels = r.width * r.height;
  const map = new Map<number, number>();
  for (const [key, cls] of Object.entries(colors)) {
    const c = colourKey(key)!;
    // A grey key matches grey pixels of an RGB mask too.
    map.set(c.length === 1 ? (r.channels === 3 ? (c[0] << 16) | (c[0] << 8) | c[0] : c[0]) : (c[0] << 16) | (c[1] << 8) | c[2], cls);
  }
  const out = new Uint8Array(pixels);
  const unknown = new Map<number, number>();
  for (let i = 0; i < pixels; i++) {
    let key: number;
    if (r.palette) {
      const c = r.palette[r.data[i]] ?? [0, 0, 0];
      key = (c[0] << 16) | (c[1] << 8) | c[2];
    } else {
      key = r.channels === 3 ? (r.data[3 * i] << 16) | (r.data[3 * i + 1] << 8) | r.data[3 * i + 2] : r.data[i];
    }
    const cls = map.get(key);
    if (cls === undefined) unknown.set(key, (unknown.get(key) ?? 0) + 1);
    else out[i] = cls;
  }
  if (unknown.size > 0) {
    const rgb = r.channels === 3 || r.palette;
    const names = [...unknown].sort((a, b) => b[1] - a[1]).slice(0, 6)
      .map(([k, n]) => `${rgb ? hex([k >> 16, (k >> 8) & 255, k & 255]) : k} (${n} pixels)`);
    fail(file, `${unknown.size} colour${unknown.size > 1 ? 's' : ''} not in the colour map: ${names.join(', ')}${unknown.size > 6 ? ', …' : ''}`);
  }
  return out;
}

/** The distinct values of a one-channel raster, ascending. */
function distinctValues(data: Uint8Array | Uint16Array, pixels: number): number[] {
  const seen = new Uint8Array(65536);
  for (let i = 0; i < pixels; i++) seen[data[i]] = 1;
  const out: number[] = [];
  for (let v = 0; v < 65536; v++) if (seen[v]) out.push(v);
  return out;
}

const listValues = (values: number[]) => (values.length > 8 ? `${values.slice(0, 4).join(', ')}, …, ${values.slice(-2).join(', ')} (${values.length} values)` : values.join(', '));

/** A decoded mask as class indices under `convention` (see the module's header); a 'class-values' DataError when it cannot be. */
export function rasterToLabels(r: Raster, file: string, convention: MaskConvention = 'auto'): DecodedLabels {
  const pixels = r.width * r.height;
  const shape = [r.height, r.width];
  const type = `${r.format}${r.format === 'png' ? ` ${r.bitDepth}-bit` : ''} ${r.palette ? 'palette' : r.channels === 3 ? 'rgb' : 'grey'}`;
  if (typeof convention === 'object') return { shape, labels: byColourMap(r, file, convention.colors), type: `${type}, colour map` };
  if (r.palette && (convention === 'auto' || convention === 'palette' || convention === 'indices')) {
    return { shape, labels: Uint8Array.from(r.data.subarray(0, pixels)), type: `${type}, palette index = class` };
  }
  if (convention === 'palette') fail(file, `masks: 'palette' was asked for, but this ${type} mask has no palette`);
  // One channel: grey masks, or RGB masks whose channels agree everywhere.
  let grey: Uint8Array | Uint16Array = r.data;
  if (r.palette) {
    grey = Uint8Array.from(r.data.subarray(0, pixels), (i) => r.palette![i]?.[0] ?? 0);
  } else if (r.channels === 3) {
    const colours = new Set<number>();
    grey = new (r.data.constructor as new (n: number) => Uint8Array | Uint16Array)(pixels);
    for (let i = 0; i < pixels; i++) {
      const [red, green, blue] = [r.data[3 * i], r.data[3 * i + 1], r.data[3 * i + 2]];
      if (red !== green || red !== blue) colours.add(((red & 255) << 16) | ((green & 255) << 8) | (blue & 255));
      grey[i] = red;
    }
    if (colours.size > 0) {
      const some = [...colours].slice(0, 4).map((k) => hex([k >> 16, (k >> 8) & 255, k & 255]));
      fail(file, `an RGB colour-coded mask (colours such as ${some.join(', ')}): give a colour → class map (masks: { colors: { '#000000': 0, … } }; --mask-colors '#000000=0,#ff0000=1')`);
    }
  }
  const values = distinctValues(grey, pixels);
  const max = values[values.length - 1];
  const labels = new Uint8Array(pixels);
  if (convention === 'binary') {
    // Half the brightest value present: 0/1, 0/255 and a JPEG mask's ringing near 0 and 255 alike.
    const cut = max / 2;
    for (let i = 0; i < pixels; i++) labels[i] = grey[i] > cut ? 1 : 0;
    return { shape, labels, type: `${type}, binary` };
  }
  const fullScale = r.format === 'jpeg' ? 255 : 2 ** r.bitDepth - 1;
  if (convention === 'auto' && fullScale > 1 && max === fullScale && values.every((v) => v === 0 || v === fullScale)) {
    for (let i = 0; i < pixels; i++) labels[i] = grey[i] === 0 ? 0 : 1;
    return { shape, labels, type: `${type}, 0/${fullScale} binary` };
  }
  const limit = convention === 'indices' ? 255 : MAX_AUTO_CLASSES - 1;
  if (max > limit) {
    const hint = r.format === 'jpeg'
      ? 'JPEG masks are lossy (edges get stray values): store masks as PNG, or read it with masks: \'binary\' (--masks binary) to cut at half the maximum'
      : values.length <= 16
        ? `if these are ${values.length} classes, map them: --mask-colors '${values.map((v, k) => `${v}=${k}`).join(',')}'; if the mask is binary, --masks binary`
        : 'not class indices, nor a 0/max binary mask';
    fail(file, `mask values ${listValues(values)} are not class indices 0…${limit}: ${hint}`);
  }
  for (let i = 0; i < pixels; i++) labels[i] = grey[i];
  return { shape, labels, type: `${type}, class indices` };
}
