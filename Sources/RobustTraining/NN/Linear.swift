import Torch

/// A fully connected layer (`torch.nn.Linear`): y = x W^T + b.
public final class Linear: Layer {
  public let weight: Tensor
  public let bias: Tensor?
  public var isTraining = true

  public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) throws {
    weight = try DefaultInit.uniform([outFeatures, inFeatures], fanIn: inFeatures)
    self.bias = bias ? try DefaultInit.uniform([outFeatures], fanIn: inFeatures) : nil
  }

  public var ownParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try Functional.linear(x, weight: weight, bias: bias)
  }
}
