import Torch

/// The settings of the L-inf PGD that generates training examples (the loop is `GradientAscent`, as for
/// the evaluation attack): a random start, `steps` signed gradient steps of size `stepSize`, back into
/// the eps-ball and [0, 1] after each. The model runs in eval mode while attacking (BatchNorm statistics
/// do not move); parameter gradients are untouched.
public struct TrainingPerturbation: Codable, Equatable, Sendable {
  public var epsilon: Double
  public var stepSize: Double
  public var steps: Int
  public var loss: TrainingAttackLoss
  /// How the cross-entropy attack's iterates are kept (absent: `.clipped`, the standard PGD).
  public var iterates: Iterates?

  /// Where PGD's iterates may go between steps.
  public enum Iterates: String, Codable, CaseIterable, Sendable {
    /// Within the eps-ball and [0, 1] after every step (Madry et al.; every public PGD but one).
    case clipped
    /// Within the eps-ball only, clipped to [0, 1] at the end: the AGR authors' `attack.py`, whose
    /// `image_adv.clamp(0., 1.).detach_()` discards its result (from one random start, 15-25% of the
    /// CIFAR-10 pixels of x_adv differ from the standard form's).
    case authors

    public var summary: String { self == .clipped ? "standard PGD" : "as the AGR authors' attack.py" }
  }

  public init(epsilon: Double = 8.0 / 255, stepSize: Double = 2.0 / 255, steps: Int = 10,
              loss: TrainingAttackLoss = .crossEntropy)
  {
    self.epsilon = epsilon
    self.stepSize = stepSize
    self.steps = steps
    self.loss = loss
  }

  /// Adversarial versions of `images` (detached, within the ball and [0, 1]). With a `shard`, `images` are
  /// its rows of a global batch and the random start is drawn for the whole batch, so each row starts
  /// where it would in one process.
  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor, shard: BatchShard? = nil) throws -> Tensor {
    try model.withMode(training: false) {
      let threat = try ThreatModel.lInf(epsilon)
      switch loss {
      case .crossEntropy:
        // From a uniform point of the ball, climbing the batch-mean cross-entropy.
        let noise = try Self.rows(of: shard, like: images) {
          try Tensor.uniform($0, low: -epsilon, high: epsilon, dtype: images.dtype, device: images.device)
        }
        let authors = iterates == .authors
        let ascent = GradientAscent(threatModel: threat, stepSize: stepSize, update: authors ? .offsetUnclipped : .offset)
        let last = try ascent.run(model, images: images, from: try (try images + noise).clamped(min: 0, max: 1), steps: steps) {
          try Functional.crossEntropy($0, labels)
        }
        return authors ? try last.clamped(min: 0, max: 1) : last
      case .kl:
        // TRADES: start near the clean point and climb KL(model(x') || model(x)).
        let target = try Autograd.withNoGrad { try Functional.softmax(try model(images), dim: 1) }
        let noise = try Self.rows(of: shard, like: images) { try Tensor.randn($0, dtype: images.dtype, device: images.device) }
        let start = try images.adding(noise, scaledBy: 0.001)
        let ascent = GradientAscent(threatModel: threat, stepSize: stepSize, update: .projected)
        let last = try ascent.run(model, images: images, from: start, steps: steps) {
          try Functional.klDiv(try Functional.logSoftmax($0, dim: 1), target, reduction: .sum)
        }
        return try threat.project(last, around: images).detached()
      }
    }
  }

  /// `draw(shape)` for `images`' shape, or for the whole batch of `shard` cut to its rows.
  static func rows(of shard: BatchShard?, like images: Tensor, _ draw: ([Int]) throws -> Tensor) throws -> Tensor {
    guard let shard else { return try draw(images.shape) }
    return try draw([shard.total] + images.shape.dropFirst()).slice(shard.rows.lowerBound, shard.rows.upperBound)
  }
}
