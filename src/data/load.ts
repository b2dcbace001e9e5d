/**
 * One sample from its files: the image (a PNG or JPEG, or one NIfTI volume per channel) and its
 * mask as class indices. Shared by the data check and the training data set, so both read a file
 * the same way and name the same problems.
 */
import { decodeRaster, rasterType } from './decode.js';
import type { SamplePair } from './layout.js';
import { rasterToImage, rasterToLabels, type MaskConvention } from './masks.js';
import { decodeNifti } from './nifti.js';
import { DataError, UnreadableFileError, shapeText, type DataProblem, type DecodedImage, type DecodedLabels } from './types.js';

/** A decoded sample: its image, and its mask as class indices (null when the pair has no mask). */
export interface LoadedSample {
  image: DecodedImage;
  labels: DecodedLabels | null;
}

async function readBytes(file: { path: string; read(): Promise<Uint8Array> }): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await file.read();
  } catch (error) {
    throw new UnreadableFileError(file.path, `cannot be read (${(error as Error).message})`);
  }
  if (bytes.length === 0) throw new UnreadableFileError(file.path, 'the file is empty');
  return bytes;
}

const isVolume = (path: string) => /\.nii(\.gz)?$/i.test(path);

/** A label volume's values as class indices: integers from 0 to 255, else a 'class-values' problem. */
function volumeToLabels(volume: DecodedImage, file: string): DecodedLabels {
  if (volume.channels !== 1) {
    throw new DataError([{ code: 'class-values', file, message: `a label volume must have one channel, this one has ${volume.channels}` }]);
  }
  const labels = new Uint8Array(volume.data.length);
  const bad = new Set<number>();
  for (let i = 0; i < labels.length; i++) {
    const v = volume.data[i];
    if (Number.isInteger(v) && v >= 0 && v <= 255) labels[i] = v;
    else if (bad.size < 5) bad.add(v);
  }
  if (bad.size > 0) {
    throw new DataError([{ code: 'class-values', file, message: `label values must be class indices (integers 0…255), found ${[...bad].join(', ')}` }]);
  }
  return { shape: volume.shape, labels, type: `${volume.type}, class indices` };
}

/** Concatenates one-channel volumes (nnU-Net's _0000, _0001, …) into one image, channels last. */
function stackChannels(volumes: DecodedImage[], files: string[]): DecodedImage {
  if (volumes.length === 1) return volumes[0];
  const shape = volumes[0].shape;
  volumes.forEach((v, k) => {
    if (v.shape.join('×') !== shape.join('×')) {
      throw new DataError([{ code: 'size-mismatch', file: files[k], message: `channel ${k} is ${shapeText(v.shape)}, channel 0 (${files[0]}) is ${shapeText(shape)}` }]);
    }
  });
  const channels = volumes.reduce((n, v) => n + v.channels, 0);
  const voxels = volumes[0].data.length / volumes[0].channels;
  const data = new Float32Array(voxels * channels);
  let c0 = 0;
  for (const v of volumes) {
    for (let i = 0; i < voxels; i++) {
      for (let c = 0; c < v.channels; c++) data[i * channels + c0 + c] = v.data[i * v.channels + c];
    }
    c0 += v.channels;
  }
  return { shape, channels, data, type: volumes[0].type, spacing: volumes[0].spacing };
}

/**
 * A decoder's complaint as problems. Any other error is rethrown or, given the `file` it was
 * about, becomes an 'unreadable' problem of that file.
 */
export function problemsOf(error: unknown, file?: string): DataProblem[] {
  if (error instanceof DataError) return error.problems;
  if (error instanceof UnreadableFileError) return [{ code: 'unreadable', file: error.file, message: error.message.slice(error.file.length + 2) }];
  if (file == null) throw error;
  return [{ code: 'unreadable', file, message: `cannot be read: ${(error as Error)?.message ?? String(error)}` }];
}

async function loadImage(pair: SamplePair): Promise<DecodedImage> {
  if (pair.images.every((f) => isVolume(f.path))) {
    const volumes: DecodedImage[] = [];
    for (const f of pair.images) volumes.push(decodeNifti(await readBytes(f), f.path));
    return stackChannels(volumes, pair.images.map((f) => f.path));
  }
  const f = pair.images[0];
  const raster = decodeRaster(await readBytes(f), f.path);
  return rasterToImage(raster, rasterType(raster));
}

async function loadLabels(mask: SamplePair['mask'] & object, masks: MaskConvention): Promise<DecodedLabels> {
  const bytes = await readBytes(mask);
  return isVolume(mask.path) ? volumeToLabels(decodeNifti(bytes, mask.path), mask.path) : rasterToLabels(decodeRaster(bytes, mask.path), mask.path, masks);
}

/**
 * Decodes a sample's image and mask. Whatever fails is a DataError naming every problem of the
 * pair: an unreadable image and an unreadable mask both, or an image and mask of different shapes.
 */
export async function loadSample(pair: SamplePair, masks: MaskConvention = 'auto'): Promise<LoadedSample> {
  const problems: DataProblem[] = [];
  let image: DecodedImage | null = null;
  let labels: DecodedLabels | null = null;
  try {
    image = await loadImage(pair);
  } catch (error) {
    problems.push(...problemsOf(error));
  }
  if (pair.mask) {
    try {
      labels = await loadLabels(pair.mask, masks);
    } catch (error) {
      problems.push(...problemsOf(error));
    }
  }
  if (image && labels && labels.shape.join('×') !== image.shape.join('×')) {
    problems.push({
      code: 'size-mismatch', file: pair.mask!.path,
      message: `the mask is ${shapeText(labels.shape)}, its image ${pair.images[0].path} is ${shapeText(image.shape)}`,
    });
  }
  if (problems.length > 0 || !image) throw new DataError(problems);
  return { image, labels };
}
