import Torch

/// Madry et al.'s adversarial training: cross-entropy on the adversarial batch.
public struct AdversarialObjective: TrainingObjective {
  public init() {}
  public var needsCleanLogits: Bool { false }
  public var needsAdversarialLogits: Bool { true }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    try Functional.crossEntropy(try required(adversarial, "adversarial"), labels)
  }
}
