import Torch

/// A method that changes the training step itself, not only its loss: between the clean pass (and the
/// clean gradient AGR compares against, both at the model's own weights) and the method's forward passes
/// it changes what it changes, and after the optimizer's update it undoes that. AWP is one (it moves the
/// weights and back). The step runs the rest as usual: attack, objective, AGR, optimizer, data parallelism.
///
/// A new one is a file with its conformance and a line in `TrainingStep(configuration:...)` that sets
/// `TrainingStep.variation` from the configuration.
public protocol StepVariation: AnyObject {
  /// Called with the training attack's examples once the clean pass is done; returns how to undo what it
  /// changed after the update (nil: nothing to undo). Autocast, when the step uses it, is its own to enter.
  func prepareMethodPasses(of step: TrainingStep, images: Tensor, adversarial: Tensor, labels: Tensor) throws
    -> (() throws -> Void)?
}
