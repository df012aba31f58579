import Torch

/// Standard training: cross-entropy on the clean batch (with `labelSmoothing`, torch's `label_smoothing`).
public struct StandardObjective: TrainingObjective {
  public var labelSmoothing: Double
  public init(labelSmoothing: Double = 0) { self.labelSmoothing = labelSmoothing }
  public var needsCleanLogits: Bool { true }
  public var needsAdversarialLogits: Bool { false }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    try Functional.crossEntropy(try required(clean, "clean"), labels, labelSmoothing: labelSmoothing)
  }
}
