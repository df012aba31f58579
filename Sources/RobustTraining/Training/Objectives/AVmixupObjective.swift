import Torch

/// AVmixup (Lee et al., 2020) as the AGR authors' code trains it: the adversarial vertex
/// x_av = clip(x + 2 (x_adv - x), 0, 1), a per-sample mix x' = lambda x + (1 - lambda) x_av with
/// lambda ~ Beta(1, 1) = U(0, 1) (drawn from the global generator, which the trainer seeds per epoch),
/// and cross-entropy on x' against the hard labels. With `softLabels` it is the paper's form instead: the
/// target is lambda LS(y, 0.5) + (1 - lambda) LS(y, 0.7), LS(y, f) putting f on the true class and
/// (1 - f) / (classes - 1) on each other one.
public final class AVmixupObjective: TrainingObjective {
  public let softLabels: Bool
  /// The mixing weights of the last batch (N, 1, 1, 1), for the soft-label loss.
  private var weights: Tensor?

  public init(softLabels: Bool = false) { self.softLabels = softLabels }

  public var needsCleanLogits: Bool { false }
  public var needsAdversarialLogits: Bool { true }

  public func adversarialInput(images: Tensor, adversarial: Tensor) throws -> Tensor {
    let vertex = try (try images + (try (try adversarial - images) * 2)).clamped(min: 0, max: 1)
    let lambda = try Tensor.uniform([images.shape[0], 1, 1, 1], low: 0, high: 1, dtype: images.dtype,
                                    device: images.device)
    weights = lambda
    return try (try lambda * images) + (try (1 - lambda) * vertex)
  }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    let logits = try required(adversarial, "mixed")
    guard softLabels else { return try Functional.crossEntropy(logits, labels) }
    guard let weights else { throw TorchError("AVmixup's soft labels need the mixing weights of the batch") }
    let classes = logits.shape[1]
    let onehot = try labels.oneHot(classes: classes).to(.float32)
    func smoothed(_ f: Double) throws -> Tensor { try (try onehot * f) + (try (1 - onehot) * ((1 - f) / Double(classes - 1))) }
    let lambda = try weights.reshaped([-1, 1]).to(.float32)
    let target = try (try lambda * smoothed(0.5)) + (try (1 - lambda) * smoothed(0.7))
    return try (try -(target * Functional.logSoftmax(logits, dim: 1))).sum(dims: [1]).mean()
  }
}
