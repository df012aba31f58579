import Torch

/// Which kernels a batch norm in eval mode runs on CUDA: cuDNN's, or ATen's own elementwise ones (`native`;
/// the same formula; on the CPU they are one path). The PGD attack runs the model in eval mode ten times per
/// step, and in an H100 profile cuDNN's NCHW inference kernel averaged 27 us a call, about twice an elementwise
/// add over the same tensors; but timed (`agr bench --eval-batch-norm both`, PreAct-ResNet-18, bs 128, fp32) the
/// native kernels were no faster: the same ms per step from a CUDA graph, up to 10 % slower eager (more
/// operations to dispatch). So cuDNN stays the default; the option is there to time other GPUs.
public enum BatchNormKernels: String, Codable, Sendable, CaseIterable {
  case cudnn, native
}

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
  /// The kernels of eval mode on CUDA (training mode always takes cuDNN's).
  public var evalKernels = BatchNormKernels.cudnn

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
                                    training: isTraining, momentum: momentum, eps: eps,
                                    cudnn: isTraining || evalKernels == .cudnn)
  }
}

extension Module {
  /// Sets the eval-mode kernels of every batch norm at and below this module.
  public func setEvalBatchNormKernels(_ kernels: BatchNormKernels) {
    for case let bn as BatchNorm2d in allModules() { bn.evalKernels = kernels }
  }
}
