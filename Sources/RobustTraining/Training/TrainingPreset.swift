/// Named starting configurations (`agr train --preset`); explicit settings override them.
public enum TrainingPreset: String, CaseIterable, Sendable {
  /// The built-in default: a real, small job that runs on a laptop CPU in minutes.
  case quickstart
  /// The paper's CIFAR-10 recipe: PreAct-ResNet-18, 200 epochs, lr 0.1 x0.1 at 100 and 150, AGR from 155.
  case cifar10
  case cifar100
  case tinyImageNet = "tiny-imagenet"
  /// CIFAR-10 in 15 epochs with AGR in the last third: a short GPU check of the whole recipe.
  case cifar10Short = "cifar10-short"
  /// ImageNet L-inf adversarial training of ResNet-50 at 4/255 (see `ImageNetRecipe` for each setting's source).
  case imagenet

  /// The preset a run starts from when none is named: the quick start for the 28x28 grey-scale datasets
  /// (and when no dataset is named), the paper's recipe for every other dataset.
  public static func starting(dataset: String?) -> TrainingPreset {
    guard let dataset else { return .quickstart }
    let format = DatasetFormat(rawValue: dataset.lowercased())
    if format == .imagenet { return .imagenet }
    return format?.imageShape == [1, 28, 28] ? .quickstart : .cifar10
  }

  public var configuration: TrainingConfiguration {
    var c = TrainingConfiguration()
    switch self {
    case .quickstart:
      c.dataset = DatasetFormat.fashionMNIST.rawValue
      c.model = .smallCNN
      c.method = .at
      c.agr = true
      c.agrStartEpoch = 2
      c.epochs = 3
      c.trainSubset = 10_000
      c.testSubset = 1_000
      c.batchSize = 128
      c.learningRate = 0.05
      c.schedule = .constant(0.05)
      c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.04, steps: 3)
      c.evalSteps = 20
      c.augment = false
    case .cifar10, .cifar100, .tinyImageNet, .cifar10Short:
      c.dataset = dataset.rawValue
      c.model = .preactResNet18
      c.method = .at
      c.agr = true
      c.epochs = self == .cifar10Short ? 15 : 200
      c.agrStartEpoch = self == .cifar10Short ? 11 : 155
      c.batchSize = 128
      c.learningRate = 0.1
      c.schedule = self == .cifar10Short
        ? .multiStep(base: 0.1, milestones: [10, 13], gamma: 0.1)
        : .multiStep(base: 0.1, milestones: [100, 150], gamma: 0.1)
      c.perturbation = TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 10)
      c.evalSteps = 20
      c.evalStepSize = 2.0 / 255
      c.augment = true
      c.agrClip = 0.1
      // as the AGR authors' code: ImageNet statistics inside the model, MART's loss on forward passes of its own,
      // crop + flip + Cutout
      c.normalization = .imagenet
      c.martRepeatedPasses = true
      c.augmentations = [.crop, .flip, .cutout]
    case .imagenet:
      c = ImageNetRecipe.configuration
    }
    return c
  }

  private var dataset: DatasetFormat {
    switch self {
    case .quickstart: return .fashionMNIST
    case .cifar10, .cifar10Short: return .cifar10
    case .cifar100: return .cifar100
    case .tinyImageNet: return .tinyImageNet
    case .imagenet: return .imagenet
    }
  }

  /// One line on what the preset runs.
  public var summary: String {
    switch self {
    case .quickstart:
      return "Fashion-MNIST (first 10,000 training and 1,000 test images), SmallCNN, AT+AGR (AGR from epoch 2), "
        + "eps 0.1, training attack PGD-3 (step 0.04), 3 epochs, PGD-20 evaluation"
    case .cifar10, .cifar100, .tinyImageNet:
      return "\(dataset.rawValue), PreAct-ResNet-18, AT+AGR from epoch 155 of 200, PGD-10 8/255 step 2/255, "
        + "lr 0.1 x0.1 at epochs 100 and 150, batch 128, C = 0.1"
    case .cifar10Short:
      return "cifar10, PreAct-ResNet-18, AT+AGR from epoch 11 of 15, PGD-10 8/255, lr 0.1 x0.1 at epochs 10 and 13"
    case .imagenet:
      return ImageNetRecipe.summary
    }
  }
}
