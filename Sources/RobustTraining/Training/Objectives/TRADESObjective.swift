import Torch

/// Zhang et al.'s TRADES: CE(clean) + beta * KL(p_adv || p_clean), the KL averaged over the batch; `labelSmoothing`
/// smooths the CE term only (the KL compares two predictions).
public struct TRADESObjective: TrainingObjective {
  public var beta: Double
  public var labelSmoothing: Double
  public init(beta: Double = 6, labelSmoothing: Double = 0) {
    self.beta = beta
    self.labelSmoothing = labelSmoothing
  }
  public var needsCleanLogits: Bool { true }
  public var needsAdversarialLogits: Bool { true }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    let clean = try required(clean, "clean")
    let adversarial = try required(adversarial, "adversarial")
    let kl = try Functional.klDiv(try Functional.logSoftmax(adversarial, dim: 1), try Functional.softmax(clean, dim: 1),
                                  reduction: .batchMean)
    return try Functional.crossEntropy(clean, labels, labelSmoothing: labelSmoothing) + beta * kl
  }
}
