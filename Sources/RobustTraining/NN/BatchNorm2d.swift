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
  /// In data-parallel training with `--sync-bn`: sums a tensor over the ranks, differentiably, so that
  /// training mode normalises with the global batch's statistics (nil: this process's batch).
  public var statisticsSum: ((Tensor) throws -> Tensor)?

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
    if isTraining, let statisticsSum { return try synchronized(x, sum: statisticsSum) }
    return try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean, runningVar: runningVar,
                                    training: isTraining, momentum: momentum, eps: eps)
  }

  /// Training-mode batch norm with statistics over every rank's batch: the per-channel sums of x and x^2
  /// and the count travel in one all-reduce; the running statistics take the global mean and unbiased
  /// variance, as `torch.nn.SyncBatchNorm` does.
  private func synchronized(_ x: Tensor, sum: (Tensor) throws -> Tensor) throws -> Tensor {
    let channels = weight.shape[0]
    let count = try Tensor.full([1], Double(x.count / channels), dtype: x.dtype)
    let local = try Tensor.cat([try x.sum(dims: [0, 2, 3]), try x.square().sum(dims: [0, 2, 3]), count])
    let total = try sum(local)
    let n = try total.slice(2 * channels, 2 * channels + 1)
    let mean = try total.slice(0, channels) / n
    let variance = try (try total.slice(channels, 2 * channels) / n - mean.square()).clamped(min: 0)
    try Autograd.withNoGrad {
      let unbiased = try variance * n / (try n - 1).clamped(min: 1)
      try runningMean.copy_(try runningMean * (1 - momentum) + (try mean.detached() * momentum))
      try runningVar.copy_(try runningVar * (1 - momentum) + (try unbiased.detached() * momentum))
    }
    let shape = [1, channels, 1, 1]
    let scale = try (try (variance + eps).rsqrt() * weight).reshaped(shape)
    return try (x - mean.reshaped(shape)) * scale + bias.reshaped(shape)
  }
}
