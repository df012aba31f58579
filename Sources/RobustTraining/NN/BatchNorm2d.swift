import Torch

/// Batch normalisation over (N, H, W) per channel (`torch.nn.BatchNorm2d`). In training mode it
/// normalises with batch statistics and updates the running ones; in eval mode it uses the running ones.
public final class BatchNorm2d: Layer {
  public let weight: Tensor
  public let bias: Tensor
  public let runningMean: Tensor
  public let runningVar: Tensor
  public let batchesTracked: Tensor
  public let momentum: Double
  public let eps: Double
  public var isTraining = true

  public init(_ channels: Int, momentum: Double = 0.1, eps: Double = 1e-5) throws {
    weight = try Tensor.ones([channels]).requiresGrad(true)
    bias = try Tensor.zeros([channels]).requiresGrad(true)
    runningMean = try Tensor.zeros([channels])
    runningVar = try Tensor.ones([channels])
    batchesTracked = try Tensor.zeros([], dtype: .int64)
    self.momentum = momentum
    self.eps = eps
  }

  public var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }

  public var ownBuffers: [(name: String, tensor: Tensor)] {
    [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", batchesTracked)]
  }

  public func callAsFunction(_ x: Tensor) throws -> Tensor {
    if isTraining { try Autograd.withNoGrad { try batchesTracked.add_(1) } }
    return try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                    training: isTraining, momentum: momentum, eps: eps)
  }
}
