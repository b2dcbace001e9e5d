/**
 * segloss/models: U-Nets built from stock tfjs-layers layers, a synthetic segmentation data set,
 * and a trainer (on it, or on your own data: segloss/data) with checkpoints that resume bit for bit. tfjs-layers is an optional peer
 * dependency: `@tensorflow/tfjs-layers`, or `@tensorflow/tfjs`, which includes it.
 */
// (train.ts, which imports tfjs-layers, gives its BatchNormalization the fused path when segloss's kernels are set up.)
export { unet2d, unet3d, type UNet2DOptions, type UNet3DOptions } from './unet.js';
export { syntheticSegmentation, type SyntheticData, type SyntheticOptions } from './synthetic.js';
export {
  UNetTrainer, parseTrainingOptions, TRAIN_LOSSES, type OpenHooks, type TrainingDataOptions, type TrainingRow, type UNetTrainingInput,
  type UNetTrainingOptions, type ValidationScores,
} from './train.js';
export { TRAIN_LOSS_NAMES, type TrainLossName } from './loss_names.js';
