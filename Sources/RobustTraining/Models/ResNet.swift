import Torch

/// ResNet-18 for 32x32 inputs (the CIFAR variant used across the AT literature): `conv1`, `bn1`,
/// `layer1..4` of basic blocks with `shortcut.0` (conv) / `shortcut.1` (BN) projections, `linear`.
public final class ResNet18: ImageClassifier {
  public let conv1: Conv2d
  public let bn1: BatchNorm2d
  public let layers: [Sequential]
  public let linear: Linear

  public init(classCount: Int = 10, inputChannels: Int = 3, normalization: InputNormalization? = nil) throws {
    conv1 = try Conv2d(inputChannels, 64, kernelSize: 3, padding: 1, bias: false)
    bn1 = try BatchNorm2d(64)
    layers = try resNetStages { try BasicBlock($0, $1, stride: $2) }
    linear = try Linear(512, classCount)
    super.init(classCount: classCount, normalization: normalization)
  }

  override public var children: [(name: String, module: any Module)] {
    [("conv1", conv1), ("bn1", bn1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as any Module) }
      + [("linear", linear)]
  }

  override public func logits(_ x: Tensor) throws -> Tensor {
    var out = try bn1(try conv1(x)).relu()
    for stage in layers { out = try stage(out) }
    return try linear(try Functional.adaptiveAvgPool2d(out).flattened(from: 1))
  }
}

/// conv-BN-ReLU-conv-BN plus a (projected) skip connection, then ReLU.
public final class BasicBlock: Layer {
  public let conv1: Conv2d
  public let bn1: BatchNorm2d
  public let conv2: Conv2d
  public let bn2: BatchNorm2d
  public let shortcut: Sequential
  public var isTraining = true

  init(_ inChannels: Int, _ outChannels: Int, stride: Int) throws {
    conv1 = try Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false)
    bn1 = try BatchNorm2d(outChannels)
    conv2 = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false)
    bn2 = try BatchNorm2d(outChannels)
    shortcut = stride != 1 || inChannels != outChannels
      ? Sequential([
        try Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false), try BatchNorm2d(outChannels),
      ]) : Sequential([])
  }

  public var children: [(name: String, module: any Module)] {
    [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("shortcut", shortcut)]
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let out = try bn2(try conv2(try bn1(try conv1(x)).relu()))
    return try (out + (try shortcut(x))).relu()
  }
}
