import Torch

/// 2-D convolution with square kernels (`torch.nn.Conv2d`).
public final class Conv2d: Layer {
  public let weight: Tensor
  public let bias: Tensor?
  public let stride: Int
  public let padding: Int
  public var isTraining = true

  public init(_ inChannels: Int, _ outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
              bias: Bool = true) throws
  {
    let fanIn = inChannels * kernelSize * kernelSize
    weight = try DefaultInit.uniform([outChannels, inChannels, kernelSize, kernelSize], fanIn: fanIn)
    self.bias = bias ? try DefaultInit.uniform([outChannels], fanIn: fanIn) : nil
    self.stride = stride
    self.padding = padding
  }

  public var ownParameters: [(name: String, tensor: Tensor)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    try Functional.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding)
  }
}
