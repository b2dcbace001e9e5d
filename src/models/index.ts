/**
 * segloss/models: U-Nets built from stock tfjs-layers layers (an optional peer dependency:
 * `@tensorflow/tfjs-layers`, or `@tensorflow/tfjs`, which includes it).
 */
export { unet2d, type UNet2DOptions } from './unet.js';
export { syntheticSegmentation, type SyntheticData, type SyntheticOptions } from './synthetic.js';
