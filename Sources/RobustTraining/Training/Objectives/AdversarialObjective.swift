import Torch

/// Madry et al.'s adversarial training: cross-entropy on the adversarial batch (with `labelSmoothing`, torch's
/// `label_smoothing`).
public struct AdversarialObjective: TrainingObjective {
  public var labelSmoothing: Double
  public init(labelSmoothing: Double = 0) { self.labelSmoothing = labelSmoothing }
  public var needsCleanLogits: Bool { false }
  public var needsAdversarialLogits: Bool { true }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    try Functional.crossEntropy(try required(adversarial, "adversarial"), labels, labelSmoothing: labelSmoothing)
  }
}
