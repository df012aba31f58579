import Torch

/// Per-channel (x - mean) / std applied inside a model, so that attacks and data stay in [0, 1]
/// pixel space. Not a parameter or buffer: it does not appear in the state dict, which keeps
/// checkpoints key-compatible with the public PyTorch code.
public struct InputNormalization: Sendable, Codable, Equatable {
  public let mean: [Double]
  public let std: [Double]

  public init(mean: [Double], std: [Double]) {
    self.mean = mean
    self.std = std
  }

  public static let cifar10 = InputNormalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2471, 0.2435, 0.2616])
  public static let cifar100 = InputNormalization(mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762])

}

/// Applies an `InputNormalization`, keeping its constants on the input's device (built once).
final class InputNormalizer {
  let normalization: InputNormalization
  private var cached: (device: Device, dtype: DType, mean: Tensor, std: Tensor)?

  init(_ normalization: InputNormalization) { self.normalization = normalization }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (device, dtype) = (x.device, x.dtype)
    if cached == nil || cached!.device != device || cached!.dtype != dtype {
      let c = normalization.mean.count
      let mean = try Tensor(normalization.mean.map(Float.init), shape: [1, c, 1, 1], device: device).to(dtype)
      let std = try Tensor(normalization.std.map(Float.init), shape: [1, c, 1, 1], device: device).to(dtype)
      cached = (device, dtype, mean, std)
    }
    return try (x - cached!.mean) / cached!.std
  }
}
