import Torch

/// The model families by the names the CLI and checkpoints use.
public enum ModelArchitecture: String, Codable, CaseIterable, Sendable {
  case preactResNet18 = "preact18"
  case wideResNet34x10 = "wrn34-10"
  case resNet18 = "resnet18"
  case smallCNN = "smallcnn"
  case resNet50 = "resnet50"

  /// What the model is, for help texts.
  public var summary: String {
    switch self {
    case .preactResNet18: return "PreAct-ResNet-18"
    case .wideResNet34x10: return "WideResNet-34-10"
    case .resNet18: return "ResNet-18"
    case .resNet50: return "ResNet-50 (torchvision's, for 224x224 ImageNet inputs)"
    case .smallCNN: return "the TRADES small CNN, 28x28 grey inputs; quick on a CPU"
    }
  }

  /// Other names `parse` accepts.
  var aliases: [String] {
    switch self {
    case .preactResNet18: return ["preactresnet18", "preact-resnet-18"]
    case .wideResNet34x10: return ["wrn-34-10", "wideresnet"]
    case .resNet18: return ["resnet-18"]
    case .resNet50: return ["resnet-50"]
    case .smallCNN: return ["small-cnn"]
    }
  }

  /// The input (C, H, W) the model is usually trained on, for synthetic batches and cross-checks.
  public var standardInputShape: [Int] {
    switch self {
    case .smallCNN: return [1, 28, 28]
    case .resNet50: return [3, 224, 224]
    default: return [3, 32, 32]
    }
  }

  /// `imageSize` (the side of square inputs) matters only to SmallCNN, whose first fully connected
  /// layer depends on it; the ResNets pool adaptively.
  /// `dropout`: SmallCNN's dropout probability (nil: its default, 0.5); the other families have none.
  public func make(classCount: Int, inputChannels: Int, imageSize: Int = 28, normalization: InputNormalization? = nil,
                   dropout: Double? = nil) throws -> any Classifier
  {
    switch self {
    case .preactResNet18:
      return try PreActResNet18(classCount: classCount, inputChannels: inputChannels, normalization: normalization)
    case .wideResNet34x10:
      return try WideResNet(depth: 34, widenFactor: 10, classCount: classCount, inputChannels: inputChannels,
                            normalization: normalization)
    case .resNet18:
      return try ResNet18(classCount: classCount, inputChannels: inputChannels, normalization: normalization)
    case .resNet50:
      return try ResNet50(classCount: classCount, inputChannels: inputChannels, normalization: normalization)
    case .smallCNN:
      return try SmallCNN(classCount: classCount, inputChannels: inputChannels, inputSize: imageSize,
                          dropout: dropout ?? SmallCNN.defaultDropout, normalization: normalization)
    }
  }

  /// The smallest image side the model is meant for: the CIFAR ResNets halve it three times (below 8 pixels
  /// their last stages see padding only), ResNet-50 five times; SmallCNN's two conv-pool stages need 14.
  public var minimumInputSide: Int {
    switch self {
    case .smallCNN: return 14
    case .resNet50: return 32  // halved five times
    default: return 8
    }
  }

  /// A model for `inputShape` (C, H, W) images.
  public func make(classCount: Int, inputShape: [Int], normalization: InputNormalization? = nil, dropout: Double? = nil)
    throws -> any Classifier
  {
    guard inputShape.count == 3 else { throw TorchError("a model input shape is (C, H, W), got \(inputShape)") }
    guard Swift.min(inputShape[1], inputShape[2]) >= minimumInputSide else {
      throw TorchError("\(rawValue) needs images of at least \(minimumInputSide)x\(minimumInputSide) pixels, "
        + "the data has \(inputShape[1])x\(inputShape[2])")
    }
    return try make(classCount: classCount, inputChannels: inputShape[0], imageSize: inputShape[2],
                    normalization: normalization, dropout: dropout)
  }

  /// A model for the images and classes of `data`.
  public func make(for data: LabeledImages, normalization: InputNormalization? = nil, dropout: Double? = nil)
    throws -> any Classifier
  {
    try make(classCount: data.classCount, inputShape: data.imageShape, normalization: normalization, dropout: dropout)
  }

  public static func parse(_ name: String) throws -> ModelArchitecture {
    let key = name.lowercased()
    guard let m = allCases.first(where: { $0.rawValue == key || $0.aliases.contains(key) }) else {
      throw TorchError("unknown model '\(name)' (choose from \(allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return m
  }
}

/// What kind of layer owns a parameter tensor (AGR statistics are reported per kind).
public enum LayerKind: String, Codable, CaseIterable, Sendable {
  case conv, batchNorm = "bn", linear, other
}

extension Module {
  /// The kind of layer that owns each parameter, aligned with `namedParameters()`.
  public func parameterKinds() -> [LayerKind] {
    if let scripted = self as? ScriptedClassifier { return scripted.ownParameterKinds }
    let kind: LayerKind
    switch self {
    case is Conv2d: kind = .conv
    case is BatchNorm2d: kind = .batchNorm
    case is Linear: kind = .linear
    default: kind = .other
    }
    return ownParameters.map { _ in kind } + children.flatMap { $0.module.parameterKinds() }
  }
}
