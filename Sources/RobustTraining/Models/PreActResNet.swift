import Torch

/// PreAct-ResNet-18 for 32x32 inputs (He et al. 2016), with the parameter names of the public
/// adversarial-training code (TRADES, MART, AGR): `conv1`, `layer1.0.bn1`, ..., `bn`, `linear`.
public final class PreActResNet18: ImageClassifier {
  public let conv1: Conv2d
  public let layers: [Sequential]
  public let bn: BatchNorm2d
  public let linear: Linear

  public init(classCount: Int = 10, inputChannels: Int = 3, normalization: InputNormalization? = nil) throws {
    conv1 = try Conv2d(inputChannels, 64, kernelSize: 3, padding: 1, bias: false)
    layers = try resNetStages { try PreActBlock($0, $1, stride: $2) }
    bn = try BatchNorm2d(512)
    linear = try Linear(512, classCount)
    super.init(classCount: classCount, normalization: normalization)
  }

  override public var children: [(name: String, module: any Module)] {
    [("conv1", conv1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as any Module) }
      + [("bn", bn), ("linear", linear)]
  }

  override public func logits(_ x: Tensor) throws -> Tensor {
    var out = try conv1(x)
    for stage in layers { out = try stage(out) }
    return try preActivationHead(out, norm: bn, linear: linear)
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
