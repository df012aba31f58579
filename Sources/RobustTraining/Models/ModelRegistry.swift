import Torch

/// The model families by the names the CLI and checkpoints use.
public enum ModelArchitecture: String, Codable, CaseIterable, Sendable {
  case preactResNet18 = "preact18"
  case wideResNet34x10 = "wrn34-10"
  case resNet18 = "resnet18"
  case smallCNN = "smallcnn"

  /// `imageSize` (the side of square inputs) matters only to SmallCNN, whose first fully connected
  /// layer depends on it; the ResNets pool adaptively.
  public func make(classCount: Int, inputChannels: Int, imageSize: Int = 28, normalization: InputNormalization? = nil)
    throws -> any Classifier
  {
    switch self {
    case .preactResNet18:
      return try PreActResNet18(classCount: classCount, inputChannels: inputChannels, normalization: normalization)
    case .wideResNet34x10:
      return try WideResNet(depth: 34, widenFactor: 10, classCount: classCount, inputChannels: inputChannels,
                            normalization: normalization)
    case .resNet18:
      return try ResNet18(classCount: classCount, inputChannels: inputChannels, normalization: normalization)
    case .smallCNN:
      return try SmallCNN(classCount: classCount, inputChannels: inputChannels, inputSize: imageSize,
                          normalization: normalization)
    }
  }

  public static func parse(_ name: String) throws -> ModelArchitecture {
    let aliases: [String: ModelArchitecture] = [
      "preact18": .preactResNet18, "preactresnet18": .preactResNet18, "preact-resnet-18": .preactResNet18,
      "wrn34-10": .wideResNet34x10, "wrn-34-10": .wideResNet34x10, "wideresnet": .wideResNet34x10,
      "resnet18": .resNet18, "resnet-18": .resNet18, "smallcnn": .smallCNN, "small-cnn": .smallCNN,
    ]
    guard let m = aliases[name.lowercased()] else {
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
