import Torch

/// The settings of the attack that generates training examples (the loop is `GradientAscent`, as for the
/// evaluation attack), in the threat model of `norm` (absent: L-inf). By default PGD: a random start, `steps`
/// steepest-ascent steps of size `stepSize` (L-inf: signed; L2: the normalised gradient, as Rice et al.'s L2
/// runs; L1: the sparse step, `ThreatModel.l1Step`), back into the eps-ball and [0, 1] after each. `attack` picks a single-step one instead (FGSM-RS, N-FGSM;
/// docs/fast-at.md). The model runs in eval mode while attacking (BatchNorm statistics do not move) unless
/// `attackInTrainMode`; parameter gradients are untouched.
public struct TrainingPerturbation: Codable, Equatable, Sendable {
  public var epsilon: Double
  /// The threat model's norm (absent: L-inf, as every run before it could name one).
  public var norm: Norm?
  public var stepSize: Double
  public var steps: Int
  public var loss: TrainingAttackLoss
  /// How the cross-entropy attack's iterates are kept (absent: `.clipped`, the standard PGD).
  public var iterates: Iterates?
  /// Which attack (absent: `.pgd`, as every run before it could name one).
  public var attack: Attack?
  /// A single-step attack's start: uniform noise in [-noise * eps, noise * eps] (absent: the attack's
  /// `defaultNoise`, 1 for FGSM-RS, 2 for N-FGSM).
  public var noise: Double?
  /// A single-step attack's step, in units of eps (absent: the attack's `defaultStepMultiplier`, 1.25 for
  /// FGSM-RS, 1 for N-FGSM); `stepSize` and `steps` are PGD's.
  public var stepMultiplier: Double?
  /// Run the attack's forward passes in train mode, as Wong et al.'s and de Jorge et al.'s code do (BatchNorm
  /// then normalises with the batch's statistics and its running statistics move, dropout is on); absent or
  /// false: eval mode, as every attack here.
  public var attackInTrainMode: Bool?
  /// Free-AT's replays of each batch, m (absent: `FreeAdversarialTraining.defaultReplays`); Free-AT only.
  public var replays: Int?
  /// Free-AT's perturbation: carried from batch to batch (absent or true, Shafahi et al.'s global noise) or
  /// started from zero for every batch (false, the FastAT benchmark's `free_at.py`); Free-AT only.
  public var carry: Bool?

  /// The training attacks.
  public enum Attack: String, Codable, CaseIterable, Sendable {
    /// PGD with `steps` steps of `stepSize` (Madry et al.).
    case pgd
    /// FGSM with a random start (Wong, Rice, Kolter 2020): a uniform start in the eps-ball, one signed step of
    /// 1.25 eps, clipped back to the ball and [0, 1].
    case fgsmRS = "fgsm-rs"
    /// N-FGSM (de Jorge et al. 2022): noise from [-2 eps, 2 eps], one signed step of eps, clipped to [0, 1]
    /// only (the result may lie outside the eps-ball).
    case nFGSM = "n-fgsm"
    /// Free-AT (Shafahi et al. 2019): each batch replayed m times, the one backward pass of each replay
    /// serving both the weights' update and a signed step of eps on a perturbation kept in the eps-ball
    /// (`FreeAdversarialTraining`); not an attack run before the step, unlike the others.
    case free

    public var summary: String {
      switch self {
      case .pgd: return "PGD, --attack-steps steps of --step-size"
      case .fgsmRS: return "FGSM with a random start, one step of 1.25 eps, Wong et al. 2020"
      case .nFGSM: return "N-FGSM, noise of 2 eps, one step of eps, no projection, de Jorge et al. 2022"
      case .free: return "Free-AT, each batch replayed m times (perturbation.replays, default 4), Shafahi et al. 2019"
      }
    }
    /// FGSM-RS and N-FGSM: one signed step from a noisy start, before the training step.
    public var isSingleStep: Bool { self == .fgsmRS || self == .nFGSM }
    /// The papers' noise radius in units of eps.
    public var defaultNoise: Double { self == .nFGSM ? 2 : 1 }
    /// The papers' step in units of eps (PGD's step is `stepSize`).
    public var defaultStepMultiplier: Double { self == .fgsmRS ? 1.25 : 1 }
  }

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

  /// The norm the attack runs in (`norm`, else L-inf).
  public var threatNorm: Norm { norm ?? .lInf }
  /// The threat model the training examples lie in.
  public var threatModel: ThreatModel { get throws { try ThreatModel(norm: threatNorm, epsilon: epsilon) } }

  /// The attack that runs (`attack`, else PGD).
  public var kind: Attack { attack ?? .pgd }
  /// A single-step attack's noise radius and step in units of eps, defaults filled in.
  public var noiseMultiplier: Double { noise ?? kind.defaultNoise }
  public var stepInEpsilons: Double { stepMultiplier ?? kind.defaultStepMultiplier }
  /// Gradient passes the attack takes per step (for time projections; Free-AT's take none of their own).
  public var attackPasses: Int { kind == .pgd ? steps : kind == .free ? 0 : 1 }
  /// Free-AT's m, default filled in; 1 for every other attack.
  public var replayCount: Int { kind == .free ? replays ?? FreeAdversarialTraining.defaultReplays : 1 }
  /// Forward and backward passes of a batch, about (for time projections): the attack's passes and about two of
  /// the step itself, for each replay.
  public var passesPerBatch: Int { replayCount * (attackPasses + 2) }
  /// "PGD-10", "PGD-10 L2", "FGSM-RS", "N-FGSM".
  public var label: String {
    switch kind {
    case .pgd: return "PGD-\(steps)" + (threatNorm == .lInf ? "" : " \(threatNorm)")
    case .fgsmRS: return "FGSM-RS"
    case .nFGSM: return "N-FGSM"
    case .free: return "Free-AT m=\(replayCount)"
    }
  }

  /// The threat model as checkpoint metadata (`threat_norm`, `threat_epsilon`), so that a checkpoint away from
  /// its run directory still evaluates in the norm and radius it was trained for.
  public var threatMetadata: [String: String] {
    [Self.normMetadataKey: threatNorm.flagName, Self.epsilonMetadataKey: String(epsilon)]
  }
  public static let normMetadataKey = "threat_norm"
  public static let epsilonMetadataKey = "threat_epsilon"

  /// This attack moved to `norm` with the radius and step that correspond to its L-inf ones, for images of
  /// `features` values: L2 as Rice et al.'s L2 runs relate to the L-inf ones (128/255 and 15/255 against 8/255
  /// and 2/255 on CIFAR-10's 3,072 values: radius x16, step x7.5), scaled by sqrt(features / 3072); L1 as
  /// "Mind the box" (eps 12 on CIFAR-10 against 8/255), scaled by features / 3072, with PGD's default step
  /// 2.5 eps / steps. L-inf, or a norm already set: unchanged but for the norm.
  public func converted(to norm: Norm, features: Int) -> TrainingPerturbation {
    var p = self
    p.norm = norm
    guard threatNorm == .lInf, norm != .lInf else { return p }
    let scale = Double(features) / 3072
    switch norm {
    case .l2:
      p.epsilon = epsilon * 16 * scale.squareRoot()
      p.stepSize = stepSize * 7.5 * scale.squareRoot()
    case .l1:
      p.epsilon = epsilon / (8.0 / 255) * 12 * scale
      p.stepSize = 2.5 * p.epsilon / Double(max(steps, 1))
    case .lInf: break
    }
    return p
  }

  /// Adversarial versions of `images` (detached, within the ball and [0, 1]). With a `shard`, `images` are
  /// its rows of a global batch and the random start is drawn for the whole batch, so each row starts
  /// where it would in one process.
  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor, shard: BatchShard? = nil) throws -> Tensor {
    if kind == .free {
      throw ConfigurationError(key: "perturbation.attack", "Free-AT's examples come from the training step's replays "
        + "(TrainingStep.freeAdversarial), not from an attack run before it")
    }
    return try model.withMode(training: attackInTrainMode == true) {
      let threat = try threatModel
      if kind.isSingleStep { return try singleStep(model, images: images, labels: labels, shard: shard) }
      switch loss {
      case .crossEntropy where threat.norm != .lInf:
        // L2 / L1: from a random point of the ball (`ThreatModel.randomOffset`), projected after every step.
        let noise = try Self.rows(of: shard, like: images) {
          try threat.randomOffset(shape: $0, dtype: images.dtype, device: images.device,
                                  uniform: { try Tensor.rand($0, dtype: images.dtype, device: images.device) },
                                  normal: { try Tensor.randn($0, dtype: images.dtype, device: images.device) })
        }
        let ascent = GradientAscent(threatModel: threat, stepSize: stepSize, update: .projected)
        return try ascent.run(model, images: images, from: try threat.project(try images + noise, around: images),
                              steps: steps) { try Functional.crossEntropy($0, labels) }
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

  /// FGSM-RS and N-FGSM: a start `x0 = clip01(x + u)`, u uniform in [-k eps, k eps] (drawn for the global batch
  /// under a shard), and one signed step of `m * eps` on the input gradient g of the attack loss at x0 (batch-mean
  /// cross-entropy, or TRADES' summed KL from the clean prediction with `loss` kl). FGSM-RS: `clip01(x +
  /// clip_eps(x0 - x + m eps sign(g)))`; N-FGSM: `clip01(x0 + m eps sign(g))`, no projection onto the ball.
  private func singleStep(_ model: any Classifier, images: Tensor, labels: Tensor, shard: BatchShard?) throws -> Tensor {
    let radius = noiseMultiplier * epsilon
    let noise = try Self.rows(of: shard, like: images) {
      try Tensor.uniform($0, low: -radius, high: radius, dtype: images.dtype, device: images.device)
    }
    let start = try (try images + noise).clamped(min: 0, max: 1)
    let objective: (Tensor) throws -> Tensor
    switch loss {
    case .crossEntropy:
      objective = { try Functional.crossEntropy($0, labels) }
    case .kl:
      let target = try Autograd.withNoGrad { try Functional.softmax(try model(images), dim: 1) }
      objective = { try Functional.klDiv(try Functional.logSoftmax($0, dim: 1), target, reduction: .sum) }
    }
    let ascent = GradientAscent(threatModel: try ThreatModel.lInf(epsilon), stepSize: stepInEpsilons * epsilon,
                                update: kind == .fgsmRS ? .offset : .unitBox)
    return try ascent.run(model, images: images, from: start, steps: 1, objective: objective)
  }

  /// `draw(shape)` for `images`' shape, or for the whole batch of `shard` cut to its rows.
  static func rows(of shard: BatchShard?, like images: Tensor, _ draw: ([Int]) throws -> Tensor) throws -> Tensor {
    guard let shard else { return try draw(images.shape) }
    return try draw([shard.total] + images.shape.dropFirst()).slice(shard.rows.lowerBound, shard.rows.upperBound)
  }
}
