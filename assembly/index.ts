// Entry of the kernel modules: every exported function is a kernel the JS side binds by name.
//
// Where each kernel is used (its tfjs kernel in src/kernels/, the public op in src/losses/ or src/ops/):
//   region_stats / region_grad    SeglossRegionStats / …Grad  the loss engine: losses.dice and every region loss, the pixel
//                                                             losses beyond the seed's CCE (label smoothing, probabilities,
//                                                             BCE, focal) and the compounds (src/losses/region.ts, pixel.ts)
//   softmax_cce_fwd_bwd           SeglossSoftmaxCrossEntropy  losses.categoricalCrossEntropy (the seed's CCE: one pass, clip form)
//   seg_losses_fwd / _bwd         SeglossSegmentationLosses   losses.segmentationLosses (the seed's five losses at once)
//   one_hot_weight_sum            (helper)                    one-hot labels' class sums, for CCE and the region losses
//   index_labels_scan             (helper)                    the check of index labels (src/kernels/validate_index_labels.ts)
//   lovasz_softmax                SeglossLovaszSoftmax        losses.lovaszSoftmax
//   conv2d_backprop_filter/input  Conv2DBackpropFilter/Input  tfjs's conv2d gradients (tfjs-wasm has no filter gradient)
//   depthwise_conv2d_backprop_*   DepthwiseConv2dNative…      tfjs's depthwise conv gradients
//   conv3d_backprop_input/filter  Conv3DBackprop…V2, Conv3D   tfjs's conv3d, its gradients and conv3dTranspose
//   batch_norm_train_fwd / _bwd   SeglossBatchNormTraining    ops/batch_norm_training (tfjs-layers' BatchNormalization in training);
//   batch_norm_* phases                                       the same, per image in a data-parallel step (src/parallel/)
//   adam_update                   SeglossAdamUpdate           FusedAdam (src/ops/fused_adam.ts)
//   sum_leading_axes_f32          Sum                         tfjs's sum over every axis but the last (bias gradients)
//   fold_f32 / fold_f64           (helper)                    per-image partials added in image order (src/parallel/fold.ts)
//   tile_bytes / copy_rows        Tile / SplitV               tfjs's tile, and split (a skip concatenation's gradient)
//   maxpool_grad_disjoint         MaxPoolGrad                 tfjs's max-pooling gradient (non-overlapping windows)
//   sum_squares_f32               (helper)                    ops/global_norm (gradient norms)
//   exp_/log_/exp_neg_/log1p_unit_f32_array                   the math alone, for `segloss bench exp` and the tests
// The lockstep sweep engine is a module of its own (assembly/engine.ts).
export { softmax_cce_fwd_bwd, index_labels_scan, one_hot_weight_sum } from './kernels/softmax_cce';
export { seg_losses_fwd, seg_losses_bwd } from './kernels/seg_losses';
export { region_stats, region_grad } from './kernels/region_losses';
export { lovasz_softmax } from './kernels/lovasz';
export {
  exp_f32_array, log_f32_array, exp_neg_f32_array, log1p_unit_f32_array, sum_squares_f32,
} from './kernels/elementwise';
export {
  conv2d_backprop_filter, conv2d_backprop_input, depthwise_conv2d_backprop_filter,
  depthwise_conv2d_backprop_input, conv3d_backprop_input, conv3d_backprop_filter,
} from './kernels/conv2d_backprop';
export {
  batch_norm_train_fwd, batch_norm_train_bwd, batch_norm_sums, batch_norm_mean, batch_norm_centered_sums,
  batch_norm_variance, batch_norm_normalize, batch_norm_grad_sums, batch_norm_grad_finish, batch_norm_grad_apply,
} from './kernels/batch_norm';
export { adam_update } from './kernels/adam';
export { sum_leading_axes_f32, fold_f32, fold_f64 } from './kernels/reduce';
export { tile_bytes, copy_rows } from './kernels/tile';
export { maxpool_grad_disjoint } from './kernels/pool';
