/**
 * The shapes every part of segloss/data shares: decoded images and label maps (2D and 3D, channels
 * last), the problems the data check names, and the error that carries them.
 */

/** An image or volume as numbers: `shape` is [height, width] (2D) or [depth, height, width] (3D). */
export interface DecodedImage {
  shape: number[];
  /** Values per pixel: 1 (grey), 3 (RGB), or a volume's modalities. */
  channels: number;
  /** shape × channels values, channels last (for a volume: [z][y][x][c]), as stored (after NIfTI scaling). */
  data: Float32Array;
  /** What the file held, for the data check's summary: 'png 8-bit grey', 'jpeg rgb', 'nifti-1 int16'. */
  type: string;
  /** A volume's voxel size in mm, [z, y, x] (NIfTI's pixdim), when the file says. */
  spacing?: [number, number, number];
}

/** A label map: one class index per pixel or voxel. */
export interface DecodedLabels {
  shape: number[];
  /** Class indices, 0 = background (≤ 255 classes). */
  labels: Uint8Array;
  type: string;
}

/** What a data check can find. Each problem names the file it is about. */
export type ProblemCode =
  | 'empty-folder' // no pairs at all
  | 'no-layout' // neither images/ + masks/, imagesTr/ + labelsTr/ nor a manifest
  | 'missing-mask' // an image without its mask (or label volume)
  | 'missing-image' // a mask without its image
  | 'duplicate' // two files of one base name
  | 'unreadable' // cannot be read, truncated, empty, or not the format its extension says
  | 'size-mismatch' // image and mask (or label volume) of different shapes
  | 'class-values' // label values outside the declared classes, or a mask convention that cannot be read as classes
  | 'channels' // images of one data set with different channel counts
  | 'manifest'; // a manifest line that is not a pair of files

/** One problem a data check found: its code, the file it is about, and a message for the user. */
export interface DataProblem {
  code: ProblemCode;
  /** The file (or folder) the problem is about, as the user named it (relative to the data set's root). */
  file: string;
  message: string;
}

/** Data that cannot be trained on as it is: every problem found, each naming its file. */
export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(readonly problems: DataProblem[], heading = 'the data set has problems') {
    super(`${heading}:\n${problems.map((p) => `  ${p.file}: ${p.message}`).join('\n')}`);
  }
}

/** A decoder's complaint about one file (the check turns it into an 'unreadable' problem). */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';

  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
  }
}

/** A shape as users read it: width×height (2D), x×y×z (3D, NIfTI's order), from [h, w] or [d, h, w]. */
export function shapeText(shape: readonly number[]): string {
  return [...shape].reverse().join('×');
}
