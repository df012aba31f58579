import Torch

/// Free-AT's perturbation (Shafahi et al. 2019, "Adversarial training for free!"). The trainer replays every
/// batch m times (`TrainingPerturbation.replayCount`); each replay trains on x_adv = clip01(x + delta), and its one backward pass gives
/// both the weights' gradient and the input gradient g = dL/d(delta), with which
///
///   delta <- clip_eps(delta + s sign(g))          (s = `stepSize`, eps by default)
///
/// before the optimizer's step. The gradient flows through clip01, as in the authors' `main_free.py`
/// (`in1.clamp_(0, 1)` on the graph). `carry` (their form): delta is one tensor of the batch's shape, zero at the
/// start of the run and carried from replay to replay, batch to batch and epoch to epoch (a smaller last batch
/// takes its first rows); it is part of the checkpoint, so a resumed run continues exactly. Without `carry` (the
/// FastAT benchmark's `free_at.py`): delta starts from zero for every batch, and after each step is also kept
/// inside [0, 1] (`delta <- clip01(x + delta) - x`), as that code stores the clipped image, not delta.
public final class FreeAdversarialTraining {
  /// m: both the authors' ImageNet configuration (`n_repeats: 4`) and the FastAT benchmark's (`m: 4`).
  public static let defaultReplays = 4
  /// Why data parallelism is refused with Free-AT.
  static let notDistributed = ConfigurationError(key: "perturbation.attack", "Free-AT's carried perturbation is not shared among ranks yet: train it in one process")
  /// The checkpoint key of the carried perturbation.
  static let stateKey = "free_at.delta"

  public let epsilon: Double
  public let stepSize: Double
  public let carry: Bool
  /// The perturbation's rows (nil before the first batch).
  public internal(set) var delta: Tensor?

  public init(epsilon: Double, stepSize: Double, carry: Bool = true) {
    self.epsilon = epsilon
    self.stepSize = stepSize
    self.carry = carry
  }

  /// The configured Free-AT, nil for any other training attack.
  convenience init?(_ p: TrainingPerturbation) {
    guard p.kind == .free else { return nil }
    self.init(epsilon: p.epsilon, stepSize: p.stepInEpsilons * p.epsilon, carry: p.carry ?? true)
  }

  /// Called before a batch's first replay: without `carry`, delta starts from zero.
  public func beginBatch() throws {
    if !carry { try delta?.fill_(0) }
  }

  /// delta's rows for a batch like `images`, as a leaf whose gradient the step asks for. A batch with more rows
  /// (or another image shape) than delta holds gets zero rows added (or a zero delta).
  func leaf(for images: Tensor) throws -> Tensor {
    let rows = images.shape[0]
    if let held = delta, Array(held.shape.dropFirst()) == Array(images.shape.dropFirst()), held.shape[0] >= rows {
      return try held.slice(0, rows).detached().requiresGrad(true)
    }
    let fresh = try Tensor.zeros(images.shape, dtype: images.dtype, device: images.device)
    if let held = delta, Array(held.shape.dropFirst()) == Array(images.shape.dropFirst()) {
      try fresh.slice(0, held.shape[0]).copy_(held)
    }
    delta = fresh
    return try fresh.detached().requiresGrad(true)
  }

  /// The step on delta's first rows with the input gradient of the replay on `images`.
  func advance(images: Tensor, inputGradient: Tensor) throws {
    guard let delta else { return }
    let rows = try delta.slice(0, images.shape[0])
    var next = try (try rows + (try inputGradient.sign() * stepSize)).clamped(min: -epsilon, max: epsilon)
    if !carry { next = try (try (try images.detached() + next).clamped(min: 0, max: 1)) - images.detached() }
    try rows.copy_(next)
  }

  /// Saves the carried delta into a training state (nothing without `carry`: each batch starts from zero).
  func save(into state: inout TrainingState) throws {
    guard carry, let delta else { return }
    try state.setTensor(delta, forKey: Self.stateKey)
  }

  /// Restores the carried delta from a training state saved after at least one batch.
  func restore(from state: TrainingState, file: String) throws {
    guard carry else { return }
    guard let saved = state[tensor: Self.stateKey] else {
      throw CheckpointError.badMetadata(file: file, key: Self.stateKey, detail: "Free-AT's carried perturbation is missing")
    }
    guard saved.shape.count >= 2, saved.dtype == .float32 else {
      throw CheckpointError.badMetadata(file: file, key: Self.stateKey, detail: "shape \(saved.shape), dtype \(saved.dtype) is no float32 batch of images")
    }
    delta = saved
  }
}
