import Torch

/// What a training method is to the training step: the forward passes it needs and its loss. The step
/// runs the training attack when the objective needs adversarial logits, the clean forward pass (train
/// mode) when it needs clean ones (or AGR does), and hands the logits here; AGR then compares the gradient
/// of this loss with the clean cross-entropy's. A loss-only method is one type conforming to this and a
/// case in `TrainingMethod` with its line in `TrainingMethod.objective`.
public protocol TrainingObjective {
  /// The loss reads the clean batch's logits.
  var needsCleanLogits: Bool { get }
  /// The loss reads adversarial logits (the step then runs the training attack).
  var needsAdversarialLogits: Bool { get }
  /// Repeat each forward pass once more in train mode without gradients (BatchNorm statistics only), as
  /// code that computes its loss on passes of its own does (the AGR authors' MART).
  var repeatsForwardPasses: Bool { get }
  /// The input whose logits the loss reads as "adversarial": the attack's examples by default, something
  /// made from them and the clean batch for methods such as AVmixup.
  func adversarialInput(images: Tensor, adversarial: Tensor) throws -> Tensor
  /// The loss to minimise (a scalar), from the logits it asked for.
  func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor
}

extension TrainingObjective {
  public var repeatsForwardPasses: Bool { false }
  public func adversarialInput(images: Tensor, adversarial: Tensor) throws -> Tensor { adversarial }

  /// `logits`, or an error naming what is missing.
  func required(_ logits: Tensor?, _ what: String) throws -> Tensor {
    guard let logits else { throw TorchError("the \(type(of: self)) loss needs the \(what) logits") }
    return logits
  }
}
