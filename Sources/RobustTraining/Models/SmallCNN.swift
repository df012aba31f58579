import Torch

/// The small CNN for 28x28 grey-scale inputs of the TRADES MNIST experiments: four 3x3 convs
/// (32, 32, 64, 64) with two max-pools, then 200-200-classes fully connected layers. Other square
/// input sizes (`inputSize`, at least 14) only change the width of the first fully connected layer.
/// Names: `feature_extractor.conv1` ... `classifier.fc3`, as in that code, and so is the
/// initialisation: He-normal conv weights, zero conv biases, a zero last layer (with PyTorch's
/// defaults this deep ReLU stack starts with vanishing signals and learns very slowly).
public final class SmallCNN: ImageClassifier {
  public let features: Sequential
  public let classifier: Sequential

  /// TRADES' dropout probability before the last two linear layers.
  public static let defaultDropout = 0.5

  public init(classCount: Int = 10, inputChannels: Int = 1, inputSize: Int = 28, dropout: Double = defaultDropout,
              normalization: InputNormalization? = nil) throws
  {
    let featureSide = ((inputSize - 4) / 2 - 4) / 2
    guard inputSize >= 14, featureSide >= 1 else {
      throw TorchError("SmallCNN needs square inputs of at least 14x14 pixels, got \(inputSize)x\(inputSize)")
    }
    features = Sequential([
      try Conv2d(inputChannels, 32, kernelSize: 3), ReLU(),
      try Conv2d(32, 32, kernelSize: 3), ReLU(), MaxPool2d(kernelSize: 2),
      try Conv2d(32, 64, kernelSize: 3), ReLU(),
      try Conv2d(64, 64, kernelSize: 3), ReLU(), MaxPool2d(kernelSize: 2),
    ])
    classifier = Sequential([
      try Linear(64 * featureSide * featureSide, 200), ReLU(), Dropout(probability: dropout),
      try Linear(200, 200), ReLU(),
      try Linear(200, classCount),
    ])
    super.init(classCount: classCount, normalization: normalization)
    try Autograd.withNoGrad {
      for case let conv as Conv2d in features.layers {
        let fanIn = conv.weight.shape.dropFirst().reduce(1, *)
        try conv.weight.copy_(try Tensor.randn(conv.weight.shape) * (2.0 / Double(fanIn)).squareRoot())
        try conv.bias?.zero_()
      }
      if let last = classifier.layers.last as? Linear {
        try last.weight.zero_()
        try last.bias?.zero_()
      }
    }
  }

  override public var children: [(name: String, module: any Module)] {
    [(name: "feature_extractor", module: NamedChildren(features, names: Self.featureNames)),
     (name: "classifier", module: NamedChildren(classifier, names: Self.classifierNames))]
  }

  private static let featureNames = ["conv1", "relu1", "conv2", "relu2", "maxpool1", "conv3", "relu3", "conv4",
                                     "relu4", "maxpool2"]
  private static let classifierNames = ["fc1", "relu1", "drop", "fc2", "relu2", "fc3"]

  override public func logits(_ x: Tensor) throws -> Tensor {
    try classifier(try features(x).flattened(from: 1))
  }
}

/// Presents a Sequential's layers under given names (PyTorch's `nn.Sequential(OrderedDict(...))`).
final class NamedChildren: Module {
  let sequential: Sequential
  let names: [String]

  init(_ sequential: Sequential, names: [String]) {
    self.sequential = sequential
    self.names = names
  }

  var isTraining: Bool {
    get { sequential.isTraining }
    set { sequential.isTraining = newValue }
  }

  var children: [(name: String, module: any Module)] {
    zip(names, sequential.layers).map { ($0, $1 as any Module) }
  }
}
