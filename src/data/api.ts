/**
 * segloss/data: your own images and volumes, in Node and in the browser. Find the pairs
 * (images/ + masks/, the Decathlon / nnU-Net layout, or a manifest), check them (sizes, types,
 * classes and their frequencies, and every problem by file), and train on seeded batches with a
 * bounded cache.
 *
 * ```js
 * import { checkData, openDataset } from 'segloss/data';
 * const report = await checkData('my-data');            // or a FileList, File[], or DataFile[]
 * const { dataset } = await openDataset('my-data', { size: 128, augment: { flip: true } });
 * const batch = await dataset.batch(0, 4);               // { images: [4,128,128,C], labels: [4,128,128] }
 * ```
 */
import { checkDataset, type DataCheckOptions, type DataReport } from './check.js';
import { SegmentationDataset, type DatasetOptions } from './dataset.js';
import { discoverLayout, type DataFile, type DataLayout } from './layout.js';
import { filesFromFileList } from './sources.js';
import { DataError } from './types.js';

export { checkDataset, formatDataReport, type DataCheckOptions, type DataReport, type ImageSummary } from './check.js';
export { SegmentationDataset, fingerprintOf, type Batch, type DatasetOptions } from './dataset.js';
export { prepareCase, type DecodeWorkers, type PrepareSettings, type PreparedCase } from './prepare.js';
export { decodeRaster, sniffFormat, type Raster } from './decode.js';
export { discoverLayout, type DataFile, type DataLayout, type SamplePair, type Split } from './layout.js';
export { loadSample, type LoadedSample } from './load.js';
export { checkColourMap, parseColourMapArgument, rasterToImage, rasterToLabels, type MaskConvention } from './masks.js';
export { decodeNifti, type NiftiImage } from './nifti.js';
export { PatchSampler, padOrCrop } from './patches.js';
export { filesFromBlobs, filesFromFileList, filesFromUrls } from './sources.js';
export { checkNormalization, normalizeInPlace, resizeImage, resizeLabels, toChannels, type Augmentation, type Normalization } from './transforms.js';
export { DataError, UnreadableFileError, type DataProblem, type DecodedImage, type DecodedLabels, type ProblemCode } from './types.js';

/** A folder path (Node), a dropped folder (FileList, File[]) or a data set's files. */
export type DataSource = string | DataFile[] | ArrayLike<File>;

let readFolder: ((dir: string) => DataFile[]) | null = null;

/** Lets a folder path be a source (segloss/data's Node entry registers node_files.ts). */
export function registerFolderReader(reader: (dir: string) => DataFile[]): void {
  readFolder = reader;
}

/** The files of a source. */
export async function dataFiles(source: DataSource): Promise<DataFile[]> {
  if (typeof source === 'string') {
    if (!readFolder) throw new Error(`data: '${source}' is a folder path, which only Node reads: in a browser, pass a FileList, File[] or DataFile[] (segloss/data's filesFromFileList, filesFromBlobs, filesFromUrls)`);
    return readFolder(source);
  }
  const list = Array.from(source as ArrayLike<DataFile | File>);
  if (list.length > 0 && typeof (list[0] as DataFile).read === 'function') return list as DataFile[];
  return filesFromFileList(list as File[]);
}

/** How checkData and openDataset find and check a source's pairs: the check's options and a manifest. */
export interface OpenOptions extends DataCheckOptions {
  /** A manifest among the files (default: manifest.csv or manifest.json at the root). */
  manifest?: string;
}

/** Finds the pairs of `source` and checks them all (see checkDataset). */
export async function checkData(source: DataSource, options: OpenOptions = {}): Promise<DataReport & { layoutOf: DataLayout }> {
  const layout = await discoverLayout(await dataFiles(source), { manifest: options.manifest });
  return { ...(await checkDataset(layout, options)), layoutOf: layout };
}

/**
 * Checks `source` and opens it for training; a DataError listing every problem (each naming its
 * file) when there are any — nothing trains on data with problems.
 */
export async function openDataset(source: DataSource, options: DatasetOptions & OpenOptions): Promise<{ dataset: SegmentationDataset; report: DataReport }> {
  const { layoutOf, ...report } = await checkData(source, { masks: options.masks, classes: options.classes, manifest: options.manifest, onProgress: options.onProgress });
  if (report.problems.length > 0) throw new DataError(report.problems);
  return { dataset: new SegmentationDataset(layoutOf, report, options), report };
}
