import Torch

/// Standard training: cross-entropy on the clean batch.
public struct StandardObjective: TrainingObjective {
  public init() {}
  public var needsCleanLogits: Bool { true }
  public var needsAdversarialLogits: Bool { false }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    try Functional.crossEntropy(try required(clean, "clean"), labels)
  }
}
