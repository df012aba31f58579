import Torch

/// PreAct-ResNet-18 for 32x32 inputs (He et al. 2016), with the parameter names of the public
/// adversarial-training code (TRADES, MART, AGR): `conv1`, `layer1.0.bn1`, ..., `bn`, `linear`.
public final class PreActResNet18: Classifier {
  public let conv1: Conv2d
  public let layers: [Sequential]
  public let bn: BatchNorm2d
  public let linear: Linear
  public let classCount: Int
  public var isTraining = true
  private let normalizer: InputNormalizer?

  public init(classCount: Int = 10, inputChannels: Int = 3, normalization: InputNormalization? = nil) throws {
    self.classCount = classCount
    conv1 = try Conv2d(inputChannels, 64, kernelSize: 3, padding: 1, bias: false)
    var width = 64
    var stages: [Sequential] = []
    for (out, stride) in [(64, 1), (128, 2), (256, 2), (512, 2)] {
      stages.append(Sequential([try PreActBlock(width, out, stride: stride), try PreActBlock(out, out, stride: 1)]))
      width = out
    }
    layers = stages
    bn = try BatchNorm2d(512)
    linear = try Linear(512, classCount)
    normalizer = normalization.map(InputNormalizer.init)
  }

  public var children: [(name: String, module: any Module)] {
    [("conv1", conv1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as any Module) }
      + [("bn", bn), ("linear", linear)]
  }

  public func callAsFunction(_ images: Tensor) throws -> Tensor {
    var out = try conv1(try normalizer?(images) ?? images)
    for stage in layers { out = try stage(out) }
    out = try Functional.adaptiveAvgPool2d(try bn(out).relu())
    return try linear(try out.flattened(from: 1))
  }
}

/// The pre-activation residual block: BN-ReLU-conv twice, with a 1x1 conv shortcut when the
/// shape changes (named `shortcut.0`, as the public code's `nn.Sequential` names it).
public final class PreActBlock: Layer {
  public let bn1: BatchNorm2d
  public let conv1: Conv2d
  public let bn2: BatchNorm2d
  public let conv2: Conv2d
  public let shortcut: Sequential?
  public var isTraining = true

  public init(_ inChannels: Int, _ outChannels: Int, stride: Int) throws {
    bn1 = try BatchNorm2d(inChannels)
    conv1 = try Conv2d(inChannels, outChannels, kernelSize: 3, stride: stride, padding: 1, bias: false)
    bn2 = try BatchNorm2d(outChannels)
    conv2 = try Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, bias: false)
    shortcut = stride != 1 || inChannels != outChannels
      ? Sequential([try Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false)]) : nil
  }

  public var children: [(name: String, module: any Module)] {
    [("bn1", bn1), ("conv1", conv1), ("bn2", bn2), ("conv2", conv2)] + (shortcut.map { [("shortcut", $0)] } ?? [])
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    let out = try bn1(x).relu()
    let skip = try shortcut?(out) ?? x
    return try conv2(try bn2(try conv1(out)).relu()) + skip
  }
}
