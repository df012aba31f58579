/// The `imagenet` preset: L-inf adversarial training of ResNet-50 on ImageNet at eps 4/255, as Salman et al.
/// 2020 ("Do Adversarially Robust ImageNet Models Transfer Better?", NeurIPS; Appendix A, their models
/// trained with the `robustness` library) train their L-inf models, each setting with its source:
/// - ResNet-50 (torchvision's), 224x224 RandomResizedCrop + flip for training, resize 256 + centre crop 224
///   for testing: Salman et al. (torchvision's ImageNet pipeline, which `robustness`'s ImageNet loaders use);
/// - eps 4/255, PGD with 3 steps of 2*eps/3, the last iterate's loss: Salman et al. App. A (eps grid
///   {0.5, 1, 2, 4, 8}/255, 3 attack steps, step size 2*eps/3);
/// - SGD lr 0.1, momentum 0.9, weight decay 1e-4: `robustness/defaults.py` (ImageNet's `weight_decay` 1e-4;
///   `lr` 0.1, `momentum` 0.9); 90 epochs, lr x0.1 every 30, batch 512: Salman et al. App. A;
/// - mean/std normalisation inside the model: `robustness`'s `InputNormalize` with ImageNet's statistics;
/// - plain Madry AT (no clean pass; no AGR: `--agr --agr-start-epoch N` adds it), evaluation PGD-20 at
///   eps/4 per epoch on the first 10,000 validation images (this project's convention, not the paper's).
public enum ImageNetRecipe {
  public static var configuration: TrainingConfiguration {
    var c = TrainingConfiguration()
    c.dataset = DatasetFormat.imagenet.rawValue
    c.model = .resNet50
    c.method = .at
    c.agr = false
    c.cleanPassInTrainMode = false
    c.epochs = 90
    c.batchSize = 512
    c.learningRate = 0.1
    c.momentum = 0.9
    c.weightDecay = 1e-4
    c.schedule = .multiStep(base: 0.1, milestones: [30, 60], gamma: 0.1)
    c.perturbation = TrainingPerturbation(epsilon: 4.0 / 255, stepSize: 2.0 / 3 * 4.0 / 255, steps: 3)
    c.evalSteps = 20
    c.evalStepSize = 1.0 / 255
    c.testSubset = 10_000
    c.normalization = .imagenet
    c.augment = false
    c.augmentations = []
    return c
  }

  public static let summary = "imagenet (streamed), ResNet-50 with RandomResizedCrop(224) + flip [Salman et al. 2020], "
    + "AT (Madry) L-inf 4/255 [Salman et al.], PGD-3 step 2/3 eps [Salman et al. App. A], 90 epochs, batch 512, "
    + "lr x0.1 at epochs 30 and 60 [Salman et al. App. A], SGD lr 0.1, momentum 0.9, weight decay 1e-4 "
    + "[robustness/defaults.py], ImageNet normalisation in the model [robustness's InputNormalize], "
    + "PGD-20 test on 10,000 val images [this project] (docs/data.md)"
}
