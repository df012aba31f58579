import Torch

/// ResNet-50 as torchvision defines it (`torchvision.models.resnet50`), with its `state_dict` names (`conv1`,
/// `bn1`, `layer1.0.conv1` ... `layer4.2.bn3`, `layerN.0.downsample.0/1`, `fc`), so torchvision and
/// RobustBench ImageNet checkpoints load: a 7x7 stride-2 stem and 3x3 stride-2 max pooling, then 3, 4, 6 and 3
/// bottleneck blocks of widths 64 to 512 (4x as many output channels), the stride on the 3x3 convolution
/// ("v1.5"), global average pooling and the linear classifier. Made for 224x224 inputs (25,557,032
/// parameters with 1000 classes). Layers start from PyTorch's default initialisation.
public final class ResNet50: ImageClassifier {
  public let conv1: Conv2d
  public let bn1: BatchNorm2d
  public let layers: [Sequential]
  public let fc: Linear

  public static let blocksPerStage = [3, 4, 6, 3]

  public init(classCount: Int = 1000, inputChannels: Int = 3, normalization: InputNormalization? = nil) throws {
    conv1 = try Conv2d(inputChannels, 64, kernelSize: 7, stride: 2, padding: 3, bias: false)
    bn1 = try BatchNorm2d(64)
    var channels = 64
    layers = try zip([64, 128, 256, 512], Self.blocksPerStage).enumerated().map { stage, shape in
      let (width, blocks) = shape
      return Sequential(try (0..<blocks).map { index in
        defer { channels = width * Bottleneck.expansion }
        return try Bottleneck(channels, width: width, stride: index == 0 && stage > 0 ? 2 : 1)
      })
    }
    fc = try Linear(512 * Bottleneck.expansion, classCount)
    super.init(classCount: classCount, normalization: normalization)
  }

  override public var children: [(name: String, module: any Module)] {
    [("conv1", conv1), ("bn1", bn1)] + layers.enumerated().map { ("layer\($0.offset + 1)", $0.element as any Module) }
      + [("fc", fc)]
  }

  override public func logits(_ x: Tensor) throws -> Tensor {
    var out = try Functional.maxPool2d(try bn1(try conv1(x)).relu(), kernel: 3, stride: 2, padding: 1)
    for stage in layers { out = try stage(out) }
    return try fc(try Functional.adaptiveAvgPool2d(out).flattened(from: 1))
  }
}

/// 1x1 (reduce to `width`), 3x3 (with the stride), 1x1 (expand to 4 x `width`), each followed by BN, plus the
/// skip connection (projected by `downsample` when the shape changes), then ReLU.
public final class Bottleneck: Layer {
  public static let expansion = 4
  public let conv1: Conv2d
  public let bn1: BatchNorm2d
  public let conv2: Conv2d
  public let bn2: BatchNorm2d
  public let conv3: Conv2d
  public let bn3: BatchNorm2d
  public let downsample: Sequential?
  public var isTraining = true

  init(_ inChannels: Int, width: Int, stride: Int) throws {
    let outChannels = width * Self.expansion
    conv1 = try Conv2d(inChannels, width, kernelSize: 1, bias: false)
    bn1 = try BatchNorm2d(width)
    conv2 = try Conv2d(width, width, kernelSize: 3, stride: stride, padding: 1, bias: false)
    bn2 = try BatchNorm2d(width)
    conv3 = try Conv2d(width, outChannels, kernelSize: 1, bias: false)
    bn3 = try BatchNorm2d(outChannels)
    downsample = stride != 1 || inChannels != outChannels
      ? Sequential([try Conv2d(inChannels, outChannels, kernelSize: 1, stride: stride, bias: false), try BatchNorm2d(outChannels)])
      : nil
  }

  public var children: [(name: String, module: any Module)] {
    [("conv1", conv1), ("bn1", bn1), ("conv2", conv2), ("bn2", bn2), ("conv3", conv3), ("bn3", bn3)]
      + (downsample.map { [("downsample", $0 as any Module)] } ?? [])
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    var out = try bn1(try conv1(x)).relu()
    out = try bn2(try conv2(out)).relu()
    out = try bn3(try conv3(out))
    return try (out + (try downsample.map { try $0(x) } ?? x)).relu()
  }
}
