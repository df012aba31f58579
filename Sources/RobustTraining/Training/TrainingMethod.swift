import Torch

/// The training objective. AGR (`GradientReconstruction`) can be put on top of any of them.
public enum TrainingMethod: String, Codable, CaseIterable, Sendable {
  /// Cross-entropy on clean inputs.
  case standard
  /// Madry et al.: cross-entropy on PGD adversarial examples.
  case at
  /// Zhang et al.: CE(clean) + beta * KL(adv || clean).
  case trades
  /// Wang et al.: boosted CE on adversarial examples + beta * KL weighted by (1 - p_true(clean)).
  case mart
  /// Lee et al.: cross-entropy on a random mix of the clean batch and its adversarial vertex.
  case avmixup

  public var isAdversarial: Bool { self != .standard }

  /// What the method is, for help texts.
  public var summary: String {
    switch self {
    case .standard: return "clean cross-entropy"
    case .at: return "Madry et al."
    case .trades: return "Zhang et al."
    case .mart: return "Wang et al."
    case .avmixup: return "Lee et al."
    }
  }
}

extension TrainingMethod {
  /// The objective this method trains, with its hyperparameters read from `c` (the line a new method adds).
  public func objective(for c: TrainingConfiguration) -> any TrainingObjective {
    switch self {
    case .standard: return StandardObjective(labelSmoothing: c.labelSmoothing ?? 0)
    case .at: return AdversarialObjective(labelSmoothing: c.labelSmoothing ?? 0)
    case .trades: return TRADESObjective(beta: c.beta, labelSmoothing: c.labelSmoothing ?? 0)
    case .mart: return MARTObjective(beta: c.beta, repeatsForwardPasses: c.martRepeatedPasses ?? false)
    case .avmixup: return AVmixupObjective(softLabels: c.avmixupSoftLabels ?? false)
    }
  }

  /// The objective this method trains, with these parameters.
  public func objective(beta: Double = 6, martRepeatedPasses: Bool = false, avmixupSoftLabels: Bool = false)
    -> any TrainingObjective
  {
    var c = TrainingConfiguration()
    c.beta = beta
    c.martRepeatedPasses = martRepeatedPasses
    c.avmixupSoftLabels = avmixupSoftLabels
    return objective(for: c)
  }
}

/// How the training attack scores a perturbation.
public enum TrainingAttackLoss: String, Codable, CaseIterable, Sendable {
  /// Cross-entropy against the label (AT, MART, and TRADES as the AGR authors' code runs it).
  case crossEntropy = "ce"
  /// KL divergence from the clean prediction (the original TRADES attack).
  case kl

  /// What the attack is, for help texts.
  public var summary: String {
    switch self {
    case .crossEntropy: return "as the AGR authors' code"
    case .kl: return "original TRADES"
    }
  }
}
