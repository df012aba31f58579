import Torch

/// Wide residual network WRN-depth-k (Zagoruyko & Komodakis 2016) for 32x32 inputs, with the
/// parameter names of the public TRADES/MART/AGR code: `block1.layer.0.bn1`, `convShortcut`, `bn1`, `linear`.
public final class WideResNet: ImageClassifier {
  public let conv1: Conv2d
  public let blocks: [NetworkBlock]
  public let bn1: BatchNorm2d
  public let linear: Linear

  /// WRN-34-10 by default.
  public init(depth: Int = 34, widenFactor: Int = 10, classCount: Int = 10, inputChannels: Int = 3,
              normalization: InputNormalization? = nil) throws
  {
    guard depth >= 10, (depth - 4) % 6 == 0 else {
      throw TorchError("WideResNet depth must be 6n+4 (e.g. 28, 34), got \(depth)")
    }
    let n = (depth - 4) / 6
    let widths = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor]
    conv1 = try Conv2d(inputChannels, widths[0], kernelSize: 3, padding: 1, bias: false)
    blocks = [
      try NetworkBlock(count: n, widths[0], widths[1], stride: 1),
      try NetworkBlock(count: n, widths[1], widths[2], stride: 2),
      try NetworkBlock(count: n, widths[2], widths[3], stride: 2),
    ]
    bn1 = try BatchNorm2d(widths[3])
    linear = try Linear(widths[3], classCount)
    super.init(classCount: classCount, normalization: normalization)
  }

  override public var children: [(name: String, module: any Module)] {
    [("conv1", conv1)] + blocks.enumerated().map { ("block\($0.offset + 1)", $0.element as any Module) }
      + [("bn1", bn1), ("linear", linear)]
  }

  override public func logits(_ x: Tensor) throws -> Tensor {
    var out = try conv1(x)
    for block in blocks { out = try block(out) }
    return try preActivationHead(out, norm: bn1, linear: linear)
  }
}

/// `count` wide blocks in a `layer` sequence.
public final class NetworkBlock: Layer {
  public let layer: Sequential
  public var isTraining = true

  init(count: Int, _ inChannels: Int, _ outChannels: Int, stride: Int) throws {
    layer = Sequential(try (0..<count).map {
      try WideBlock($0 == 0 ? inChannels : outChannels, outChannels, stride: $0 == 0 ? stride : 1)
    })
  }

  public var children: [(name: String, module: any Module)] { [("layer", layer)] }

  public func callAsFunction(_ x: Tensor) throws -> Tensor { try layer(x) }
}

/// The pre-activation wide block of the public AT code.
public final class WideBlock: Layer {
  public let bn1: BatchNorm2d
  public let conv1: Conv2d
  public let bn2: BatchNorm2d
  public let conv2: Conv2d
  public let convShortcut: Conv2d?
  public var isTraining = true

  init(_ inChannels: Int, _ outChannels: Int, stride: Int) throws {
    bn1 = try BatchNorm2d(inChannels)
    conv1 = try Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false)
    bn2 = try BatchNorm2d(outChannels)
    conv2 = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false)
    convShortcut = inChannels == outChannels
      ? nil : try Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false)
  }

  public var children: [(name: String, module: any Module)] {
    [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)]
      + (convShortcut.map { [("convShortcut", $0)] } ?? [])
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let a = try bn1(x).relu()
    let out = try conv2(try bn2(try conv1(a)).relu())
    return try (try convShortcut?(a) ?? x) + out
  }
}
