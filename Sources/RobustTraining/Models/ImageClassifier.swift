import Torch

/// What every model family shares: its class count, its train/eval flag, and the input normalisation
/// applied before the network (`logits(_:)`) sees the images. A model family subclasses it, declares its
/// layers, overrides `children` (PyTorch's names) and `logits(_:)`.
open class ImageClassifier: Classifier {
  public let classCount: Int
  public var isTraining = true
  private let normalizer: InputNormalizer?

  public init(classCount: Int, normalization: InputNormalization?) {
    self.classCount = classCount
    normalizer = normalization.map(InputNormalizer.init)
  }

  open var children: [(name: String, module: any Module)] { [] }

  /// The logits of normalised images.
  open func logits(_ x: Tensor) throws -> Tensor {
    throw TorchError("\(type(of: self)) does not define logits(_:)")
  }

  public func callAsFunction(_ images: Tensor) throws -> Tensor {
    try logits(try normalizer?(images) ?? images)
  }
}

/// The four stages of the CIFAR ResNets (64, 128, 256, 512 channels; strides 1, 2, 2, 2), each of two
/// blocks made by `block(in, out, stride)`.
func resNetStages(inputWidth: Int = 64, _ block: (Int, Int, Int) throws -> any Layer) throws -> [Sequential] {
  var width = inputWidth
  return try [(64, 1), (128, 2), (256, 2), (512, 2)].map { out, stride in
    defer { width = out }
    return Sequential([try block(width, out, stride), try block(out, out, 1)])
  }
}

/// The pre-activation networks' head: BN-ReLU, global average pooling, the linear classifier.
func preActivationHead(_ x: Tensor, norm: BatchNorm2d, linear: Linear) throws -> Tensor {
  try linear(try Functional.adaptiveAvgPool2d(try norm(x).relu()).flattened(from: 1))
}
