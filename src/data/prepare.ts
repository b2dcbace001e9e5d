/**
 * One case made ready for batches — decoded, and in 2D brought to the model's channels, resized
 * and normalised; in 3D normalised and padded up to the patch — as a pure function of its files'
 * bytes and the settings, so it gives the same bits on the main thread and in a decode worker.
 *
 * Decode workers (`DecodeWorkers`; Node: decodeWorkers() in node_decode.ts) read and prepare the
 * next step's cases on other cores while a step trains: the trainer asks for batch k + 1 before
 * it trains step k, the request reaches a worker at once (it reads the file itself: nothing waits
 * for the busy main thread), and the prepared arrays come back transferred.
 */
import type { SamplePair } from './layout.js';
import { loadSample } from './load.js';
import type { MaskConvention } from './masks.js';
import { padToAtLeast } from './patches.js';
import { normalizeInPlace, resizeImage, resizeLabels, toChannels, type Normalization } from './transforms.js';
import type { DecodedImage, DecodedLabels } from './types.js';

/** What shapes a prepared case (and nothing else: augmentation is drawn per batch). */
export interface PrepareSettings {
  dims: 2 | 3;
  size: number;
  channels: number;
  normalize: Normalization;
  masks: MaskConvention;
}

/** A case ready for batches: its image and labels after prepareCase (see the module's header). */
export interface PreparedCase {
  image: DecodedImage;
  labels: DecodedLabels;
}

/** Decodes `pair` and prepares it under `settings` (see the module's header). */
export async function prepareCase(pair: SamplePair, settings: PrepareSettings): Promise<PreparedCase> {
  const sample = await loadSample(pair, settings.masks);
  let image = sample.image;
  let labels = sample.labels!;
  if (settings.dims === 2) {
    image = resizeImage(toChannels(image, settings.channels), settings.size, settings.size);
    labels = resizeLabels(labels, settings.size, settings.size);
    if (image === sample.image) image = { ...image, data: image.data.slice() };
    normalizeInPlace(image.data, settings.normalize);
    return { image, labels };
  }
  normalizeInPlace(image.data, settings.normalize);
  return padToAtLeast(image, labels, [settings.size, settings.size, settings.size]);
}

/** Prepares cases elsewhere (other threads), to the same bits as prepareCase. */
export interface DecodeWorkers {
  /** Prepares `pair` under `settings` in a worker: the same result as prepareCase. */
  prepare(pair: SamplePair, settings: PrepareSettings): Promise<PreparedCase>;
  /** Ends the workers. */
  close(): Promise<void>;
}
