import Torch

/// Layers applied in order; children are named "0", "1", ... as in `torch.nn.Sequential`.
public final class Sequential: Layer {
  public let layers: [any Layer]
  public var isTraining = true

  public init(_ layers: [any Layer]) { self.layers = layers }

  public var children: [(name: String, module: any Module)] {
    layers.enumerated().map { (String($0.offset), $0.element as any Module) }
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try layers.reduce(x) { try $1($0) }
  }
}

/// Parameter-free layers, for use inside `Sequential`.
public final class ReLU: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.relu() }
}

public final class MaxPool2d: Layer {
  public let kernelSize: Int
  public let stride: Int
  public var isTraining = true
  public init(kernelSize: Int, stride: Int? = nil) {
    self.kernelSize = kernelSize
    self.stride = stride ?? kernelSize
  }
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try Functional.maxPool2d(x, kernel: kernelSize, stride: stride)
  }
}

public final class Flatten: Layer {
  public var isTraining = true
  public init() {}
  public func callAsFunction(_ x: Tensor) throws -> Tensor { try x.flattened(from: 1) }
}

public final class Dropout: Layer {
  public let probability: Double
  public var isTraining = true
  public init(probability: Double) { self.probability = probability }
  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try Functional.dropout(x, probability: probability, training: isTraining)
  }
}
