/**
 * Small 2D data sets on disk, written with the libraries segloss reads them with (fast-png,
 * jpeg-js): the synthetic shapes of segloss/models as 8-bit images, their masks in every convention
 * people save them in. The images are learnable (objects brighter than the background), so a short
 * training on them shows its validation Dice rise.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { syntheticSegmentation } from '../../src/models/synthetic.js';

export type MaskStyle =
  | 'indices' // grey 8-bit, values 0/1
  | 'binary255' // grey 8-bit, values 0/255
  | 'palette' // palette PNG, index = class
  | 'colors' // RGB, background black, foreground red
  | 'jpeg'; // a lossy JPEG mask of 0/255

export interface ImageSetOptions {
  count: number;
  size: number;
  masks?: MaskStyle;
  /** Image files: grey PNG (default), RGB PNG, RGBA PNG, 16-bit PNG or JPEG. */
  images?: 'grey' | 'rgb' | 'rgba' | 'grey16' | 'jpeg';
  foreground?: number;
  seed?: number;
  /** Subfolder for the split: '' (images/ at the root), 'train', 'val'. */
  split?: string;
}

export function put(path: string, bytes: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
}

/** The 8-bit image and 0/1 labels of image n. */
export function syntheticPair(size: number, n: number, foreground = 0.2, seed = 0): { image: Uint8Array; labels: Uint8Array } {
  const data = syntheticSegmentation({ shape: [size, size], count: 1, foreground, seed: seed * 1000 + n, noise: 0.04 });
  const image = Uint8Array.from(data.images, (v) => Math.max(0, Math.min(255, Math.round(255 * v))));
  return { image, labels: Uint8Array.from(data.labels) };
}

export function maskBytes(labels: Uint8Array, size: number, style: MaskStyle): Uint8Array {
  switch (style) {
    case 'indices':
      return encodePng({ width: size, height: size, data: labels, channels: 1, depth: 8 });
    case 'binary255':
      return encodePng({ width: size, height: size, data: labels.map((v) => v * 255), channels: 1, depth: 8 });
    case 'palette':
      return encodePng({ width: size, height: size, data: labels, channels: 1, depth: 8, palette: [[0, 0, 0], [128, 0, 0], [0, 128, 0]] });
    case 'colors': {
      const rgb = new Uint8Array(size * size * 3);
      labels.forEach((v, i) => { rgb[3 * i] = v ? 255 : 0; });
      return encodePng({ width: size, height: size, data: rgb, channels: 3, depth: 8 });
    }
    case 'jpeg': {
      const rgba = new Uint8Array(size * size * 4);
      labels.forEach((v, i) => { rgba.fill(v ? 255 : 0, 4 * i, 4 * i + 3); rgba[4 * i + 3] = 255; });
      return new Uint8Array(jpeg.encode({ width: size, height: size, data: rgba }, 90).data);
    }
  }
}

export function imageBytes(image: Uint8Array, size: number, kind: NonNullable<ImageSetOptions['images']>): Uint8Array {
  const pixels = size * size;
  switch (kind) {
    case 'grey':
      return encodePng({ width: size, height: size, data: image, channels: 1, depth: 8 });
    case 'grey16':
      return encodePng({ width: size, height: size, data: Uint16Array.from(image, (v) => v * 257), channels: 1, depth: 16 });
    case 'rgb':
    case 'rgba': {
      const channels = kind === 'rgb' ? 3 : 4;
      const data = new Uint8Array(pixels * channels);
      for (let i = 0; i < pixels; i++) {
        data[i * channels] = image[i];
        data[i * channels + 1] = 255 - image[i];
        data[i * channels + 2] = image[i] >> 1;
        if (channels === 4) data[i * channels + 3] = 200;
      }
      return encodePng({ width: size, height: size, data, channels, depth: 8 });
    }
    case 'jpeg': {
      const rgba = new Uint8Array(pixels * 4);
      for (let i = 0; i < pixels; i++) { rgba.fill(image[i], 4 * i, 4 * i + 3); rgba[4 * i + 3] = 255; }
      return new Uint8Array(jpeg.encode({ width: size, height: size, data: rgba }, 95).data);
    }
  }
}

/** Writes `count` pairs into dir/[split/]images and dir/[split/]masks; returns the labels written, by base name. */
export function writeImageSet(dir: string, o: ImageSetOptions): Map<string, Uint8Array> {
  const root = o.split ? join(dir, o.split) : dir;
  const kind = o.images ?? 'grey';
  const style = o.masks ?? 'indices';
  const out = new Map<string, Uint8Array>();
  for (let n = 0; n < o.count; n++) {
    const name = `${o.split || 'img'}-${String(n).padStart(3, '0')}`;
    const { image, labels } = syntheticPair(o.size, n + (o.split === 'val' ? 500 : 0), o.foreground, o.seed);
    put(join(root, 'images', `${name}.${kind === 'jpeg' ? 'jpg' : 'png'}`), imageBytes(image, o.size, kind));
    put(join(root, 'masks', `${name}.${style === 'jpeg' ? 'jpg' : 'png'}`), maskBytes(labels, o.size, style));
    out.set(name, labels);
  }
  return out;
}
