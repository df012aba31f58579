import Torch

/// A module that maps one tensor to one tensor.
public protocol Layer: Module {
  func callAsFunction(_ x: Tensor) throws -> Tensor
}

/// PyTorch's default initialisation for conv and linear layers: kaiming-uniform with a = sqrt(5)
/// on the weight, which is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and the same bound for the bias.
enum DefaultInit {
  static func uniform(_ shape: [Int], fanIn: Int) throws -> Tensor {
    let bound = 1.0 / Double(fanIn).squareRoot()
    return try Tensor.uniform(shape, low: -bound, high: bound).requiresGrad(true)
  }
}
