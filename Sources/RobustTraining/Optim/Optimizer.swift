import Torch

/// What updates the parameters: a step from the gradients it is given (AGR's reconstructed ones, or the
/// method's), at the learning rate it is told (the schedule sets it before every step). Its state is named
/// tensors, so checkpoints hold it without knowing the optimizer. SGD and AdamW are the two;
/// `OptimizerKind` makes them from a configuration.
public protocol Optimizer: AnyObject {
  /// The parameters, in the order gradients are given.
  var parameters: [Tensor] { get }
  var learningRate: Double { get set }
  /// One update from gradients aligned with `parameters` (nil: that parameter is left as it is).
  func step(gradients: [Tensor?]) throws
  /// The state as named tensors, for a checkpoint; `parameterNames` align with `parameters`.
  func state(parameterNames: [String]) throws -> [(name: String, tensor: Tensor)]
  /// Restores what `state(parameterNames:)` wrote; `tensor` answers nil for a name the checkpoint lacks
  /// (that parameter's state was not made yet).
  func restore(parameterNames: [String], from tensor: (String) -> Tensor?) throws
  /// The state tensors a step updates in place (a CUDA graph's snapshot restores them).
  var stateTensors: [Tensor] { get }
  /// Whether the next step creates state (another computation than the steps after it: a CUDA graph
  /// records only once the state exists).
  var nextStepCreatesState: Bool { get }
  /// Whether a step can be recorded in a CUDA graph and replayed (no host-side value changes per step).
  var replaysFromGraphs: Bool { get }
}

extension Optimizer {
  /// One update from the parameters' `.grad` (parameters without a gradient are skipped).
  public func step() throws { try step(gradients: parameters.map(\.grad)) }

  /// Clears every parameter's `.grad`.
  public func zeroGrad() throws {
    for p in parameters { try p.setGrad(nil) }
  }

  func checkCount(_ gradients: [Tensor?], _ name: String) throws {
    guard gradients.count == parameters.count else {
      throw TorchError("\(name).step: \(gradients.count) gradients for \(parameters.count) parameters")
    }
  }

  /// A restored state tensor, checked against its parameter's shape.
  func restored(_ tensor: Tensor?, for index: Int, key: String) throws -> Tensor? {
    guard let tensor else { return nil }
    guard tensor.shape == parameters[index].shape else {
      throw TorchError("optimizer state '\(key)' has shape \(tensor.shape), its parameter \(parameters[index].shape)")
    }
    return tensor
  }
}
