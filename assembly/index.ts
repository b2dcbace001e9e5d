// Entry of the kernel modules: every exported function is a kernel the JS side binds by name.
export { softmax_cce_fwd_bwd, index_labels_scan, one_hot_weight_sum } from './kernels/softmax_cce';
export { softmax_dice_fwd_bwd } from './kernels/softmax_dice';
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
