/**
 * The report's prediction overlays (issue #22): a run's validation pictures packed into its
 * completion marker, and drawn as a PNG strip — the image, then the prediction against the labels
 * in colour.
 */
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { overlayPng, packSamples, validSamples } from '../src/report/overlays.js';

/** Two 4×4 pictures: a ramp of grey levels; labels and predictions cover the four cases in quadrants. */
function pictures() {
  const size = 4;
  const count = 2;
  const images = Float32Array.from({ length: count * 16 }, (_, i) => (i % 16) / 10 - 0.5 + Math.floor(i / 16));
  const labels = Int32Array.from({ length: count * 16 }, (_, i) => ((i % 16) % 4 < 2 ? 1 : 0));
  const predicted = Int32Array.from({ length: count * 16 }, (_, i) => ((i % 16) < 8 ? 1 : 0));
  return { images, labels, predicted, count, size };
}

describe('prediction overlays', () => {
  it('packs each picture stretched to 0…255, and label | prediction << 1', () => {
    const samples = packSamples(pictures());
    expect(validSamples(samples)).toBe(true);
    const image = Buffer.from(samples.image, 'base64');
    const codes = Buffer.from(samples.codes, 'base64');
    expect([image[0], image[15], image[16], image[31]]).toEqual([0, 255, 0, 255]); // each picture its own range
    expect(image[5]).toBe(Math.round((5 / 15) * 255));
    expect([codes[0], codes[2], codes[8], codes[10]]).toEqual([3, 2, 1, 0]);
    expect(validSamples({ ...samples, codes: samples.codes.slice(0, 8) })).toBe(false);
    expect(validSamples({ ...samples, size: 0 })).toBe(false);
    expect(validSamples(null)).toBe(false);
  });

  it('draws the image, then the image tinted by the case: found green, missed blue, false red, background as it is', () => {
    const samples = packSamples(pictures());
    const png = decode(overlayPng(samples));
    const zoom = 24; // ceil(96 / 4)
    const side = 4 * zoom;
    expect([png.width, png.height, png.channels]).toEqual([2 * (2 * side + 4) + 2 * 4, side, 3]);
    const at = (x: number, y: number) => Array.from(png.data.subarray((y * png.width + x) * 3, (y * png.width + x) * 3 + 3));
    const pixel = (p: number, panel: 0 | 1, px: number, py: number) => at(p * (2 * side + 12) + panel * (side + 4) + px * zoom + 3, py * zoom + 3);
    const grey = (p: number, px: number, py: number) => Buffer.from(samples.image, 'base64')[p * 16 + py * 4 + px];
    const g = grey(0, 0, 0);
    expect(pixel(0, 0, 0, 0)).toEqual([g, g, g]); // the image as it is
    const tint = (v: number, c: number[]) => c.map((k) => Math.round(0.45 * v + 0.55 * k));
    expect(pixel(0, 1, 0, 0)).toEqual(tint(grey(0, 0, 0), [40, 200, 70])); // label 1, predicted 1: found
    expect(pixel(0, 1, 2, 0)).toEqual(tint(grey(0, 2, 0), [230, 40, 40])); // label 0, predicted 1: false
    expect(pixel(0, 1, 0, 2)).toEqual(tint(grey(0, 0, 2), [40, 110, 255])); // label 1, predicted 0: missed
    const b = grey(1, 3, 3);
    expect(pixel(1, 1, 3, 3)).toEqual([b, b, b]); // background predicted background
    expect(at(side + 2, 0)).toEqual([255, 255, 255]); // the gap between the panels
    expect(at(2 * side + 8, 0)).toEqual([255, 255, 255]); // and between pictures
  });
});
