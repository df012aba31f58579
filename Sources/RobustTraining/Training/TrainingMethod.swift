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

  public var isAdversarial: Bool { self != .standard }

  /// What the method is, for help texts.
  public var summary: String {
    switch self {
    case .standard: return "clean cross-entropy"
    case .at: return "Madry et al."
    case .trades: return "Zhang et al."
    case .mart: return "Wang et al."
    }
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

/// The method losses, written as in the public PyTorch code (and shared/bench/torch_reference.py).
public enum MethodLoss {
  /// The loss the method minimises, from clean logits (may be nil for AT) and adversarial logits.
  public static func loss(_ method: TrainingMethod, cleanLogits: Tensor?, adversarialLogits: Tensor?,
                          labels: Tensor, beta: Double) throws -> Tensor
  {
    switch method {
    case .standard:
      return try Functional.crossEntropy(try require(cleanLogits, "clean"), labels)
    case .at:
      return try Functional.crossEntropy(try require(adversarialLogits, "adversarial"), labels)
    case .trades:
      let clean = try require(cleanLogits, "clean")
      let adv = try require(adversarialLogits, "adversarial")
      let kl = try Functional.klDiv(try Functional.logSoftmax(adv, dim: 1), try Functional.softmax(clean, dim: 1),
                                    reduction: .batchMean)
      return try Functional.crossEntropy(clean, labels) + beta * kl
    case .mart:
      return try mart(cleanLogits: try require(cleanLogits, "clean"),
                      adversarialLogits: try require(adversarialLogits, "adversarial"), labels: labels, beta: beta)
    }
  }

  /// MART: BCE(adv) = CE(adv, y) + NLL(log(1.0001 - p_adv), y'), with y' the most likely wrong class,
  /// plus beta * mean_i[ KL(p_clean_i || p_adv_i) * (1.0000001 - p_clean_i[y_i]) ].
  static func mart(cleanLogits: Tensor, adversarialLogits: Tensor, labels: Tensor, beta: Double) throws -> Tensor {
    let pAdv = try Functional.softmax(adversarialLogits, dim: 1)
    let top2 = try pAdv.sorted(dim: 1).indices.slice(dim: 1, -2, Int(Int32.max))
    let best = try top2.select(dim: 1, 1)
    let second = try top2.select(dim: 1, 0)
    let wrong = try Tensor.where(try best .== labels, second, best)
    let boosted = try Functional.crossEntropy(adversarialLogits, labels)
      + (try Functional.nllLoss(try (1.0001 - pAdv + 1e-12).log(), wrong))
    let pClean = try Functional.softmax(cleanLogits, dim: 1)
    let trueProbability = try pClean.gather(dim: 1, try labels.unsqueezed(1)).squeezed(1)
    let kl = try Functional.klDiv(try (pAdv + 1e-12).log(), pClean, reduction: .none).sum(dims: [1])
    return try boosted + beta * (try (kl * (1.0000001 - trueProbability)).mean())
  }

  private static func require(_ t: Tensor?, _ what: String) throws -> Tensor {
    guard let t else { throw TorchError("the method loss needs the \(what) logits") }
    return t
  }
}
