/**
 * The losses `segloss train` (UNetTrainer) takes by name, apart from their implementations
 * (train.ts) so that a page can list them without loading tfjs-layers.
 */
export const TRAIN_LOSS_NAMES = ['dice-ce', 'dice-focal', 'dice', 'cce', 'focal', 'generalized-dice', 'tversky', 'lovasz'] as const;
/** A loss `segloss train` (UNetTrainer) trains with, by name: one of TRAIN_LOSS_NAMES. */
export type TrainLossName = typeof TRAIN_LOSS_NAMES[number];
