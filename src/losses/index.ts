export { categoricalCrossEntropy } from './categorical_cross_entropy.js';
export { dice } from './dice.js';
export { generalizedDice, tversky } from './region.js';
export { binaryCrossEntropy, diceCrossEntropy, diceFocal, focal } from './pixel.js';
export { lovaszSoftmax } from './lovasz.js';
export { segmentationLosses } from './segmentation_losses.js';
export { cceComposite, diceComposite, segmentationLossesComposite } from './composite.js';
