import CTorch

/// How a loss reduces over the batch.
public enum Reduction: Sendable {
  case none, mean, sum
  /// Sum divided by the batch size (PyTorch's `kl_div(reduction="batchmean")`).
  case batchMean

  /// The shim's code for this reduction.
  var code: ctorch_reduction {
    switch self {
    case .none: return CT_REDUCTION_NONE
    case .mean: return CT_REDUCTION_MEAN
    case .sum: return CT_REDUCTION_SUM
    case .batchMean: return CT_REDUCTION_BATCHMEAN
    }
  }
}

/// Stateless neural-network functions (PyTorch's `torch.nn.functional`).
public enum Functional {
  public static func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor? = nil, stride: Int = 1, padding: Int = 0,
                            dilation: Int = 1, groups: Int = 1) throws -> Tensor
  {
    let s: [Int64] = [Int64(stride), Int64(stride)]
    let p: [Int64] = [Int64(padding), Int64(padding)]
    let d: [Int64] = [Int64(dilation), Int64(dilation)]
    return try withExtendedLifetime(bias) {
      try make { ctorch_nn_conv2d(x.handle, weight.handle, bias?.handle, s, p, d, Int64(groups), $0) }
    }
  }

  public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
    try withExtendedLifetime(bias) { try make { ctorch_nn_linear(x.handle, weight.handle, bias?.handle, $0) } }
  }

  /// Batch normalisation; in training mode the running statistics are updated in place. `cudnn: false`
  /// takes ATen's own CUDA kernels (PyTorch's native formula) instead of cuDNN's; on the CPU both are the same.
  public static func batchNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, runningMean: Tensor?,
                               runningVar: Tensor?, training: Bool, momentum: Double = 0.1, eps: Double = 1e-5,
                               cudnn: Bool = true) throws -> Tensor
  {
    try withExtendedLifetime((weight, bias, runningMean, runningVar)) {
      try make {
        ctorch_nn_batch_norm(x.handle, weight?.handle, bias?.handle, runningMean?.handle, runningVar?.handle,
                             training ? 1 : 0, momentum, eps, cudnn ? 1 : 0, $0)
      }
    }
  }

  public static func maxPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
    let k = [Int64(kernel), Int64(kernel)]
    let s = [Int64(stride ?? kernel), Int64(stride ?? kernel)]
    let p = [Int64(padding), Int64(padding)]
    return try make { ctorch_nn_max_pool2d(x.handle, k, s, p, $0) }
  }

  public static func avgPool2d(_ x: Tensor, kernel: Int, stride: Int? = nil, padding: Int = 0) throws -> Tensor {
    let k = [Int64(kernel), Int64(kernel)]
    let s = [Int64(stride ?? kernel), Int64(stride ?? kernel)]
    let p = [Int64(padding), Int64(padding)]
    return try make { ctorch_nn_avg_pool2d(x.handle, k, s, p, $0) }
  }

  public static func adaptiveAvgPool2d(_ x: Tensor, outputSize: (Int, Int) = (1, 1)) throws -> Tensor {
    let size = [Int64(outputSize.0), Int64(outputSize.1)]
    return try make { ctorch_nn_adaptive_avg_pool2d(x.handle, size, $0) }
  }

  public static func softmax(_ x: Tensor, dim: Int = -1) throws -> Tensor {
    try make { ctorch_nn_softmax(x.handle, Int64(dim), 0, $0) }
  }

  public static func logSoftmax(_ x: Tensor, dim: Int = -1) throws -> Tensor {
    try make { ctorch_nn_softmax(x.handle, Int64(dim), 1, $0) }
  }

  /// Cross-entropy of logits against int64 class labels.
  public static func crossEntropy(_ logits: Tensor, _ labels: Tensor, reduction: Reduction = .mean,
                                  labelSmoothing: Double = 0) throws -> Tensor
  {
    guard reduction != .batchMean else { throw TorchError("cross_entropy does not support batchmean reduction") }
    return try make { ctorch_nn_cross_entropy(logits.handle, labels.handle, reduction.code, labelSmoothing, $0) }
  }

  public static func nllLoss(_ logProbabilities: Tensor, _ labels: Tensor, reduction: Reduction = .mean) throws
    -> Tensor
  {
    guard reduction != .batchMean else { throw TorchError("nll_loss does not support batchmean reduction") }
    return try make { ctorch_nn_nll_loss(logProbabilities.handle, labels.handle, reduction.code, $0) }
  }

  /// KL divergence as PyTorch's `kl_div(input, target)`: `input` holds log-probabilities,
  /// `target` probabilities (or log-probabilities when `logTarget`).
  public static func klDiv(_ input: Tensor, _ target: Tensor, reduction: Reduction = .batchMean,
                           logTarget: Bool = false) throws -> Tensor
  {
    try make { ctorch_nn_kl_div(input.handle, target.handle, reduction.code, logTarget ? 1 : 0, $0) }
  }

  public static func dropout(_ x: Tensor, probability: Double, training: Bool) throws -> Tensor {
    try make { ctorch_nn_dropout(x.handle, probability, training ? 1 : 0, $0) }
  }
}
