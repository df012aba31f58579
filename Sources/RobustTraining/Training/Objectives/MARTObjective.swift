import Torch

/// Wang et al.'s MART: BCE(adv) = CE(adv, y) + NLL(log(1.0001 - p_adv), y'), with y' the most likely wrong
/// class, plus beta * mean_i[ KL(p_clean_i || p_adv_i) * (1.0000001 - p_clean_i[y_i]) ].
public struct MARTObjective: TrainingObjective {
  public var beta: Double
  public var repeatsForwardPasses: Bool

  public init(beta: Double = 6, repeatsForwardPasses: Bool = false) {
    self.beta = beta
    self.repeatsForwardPasses = repeatsForwardPasses
  }

  public var needsCleanLogits: Bool { true }
  public var needsAdversarialLogits: Bool { true }

  public func loss(clean: Tensor?, adversarial: Tensor?, labels: Tensor) throws -> Tensor {
    let cleanLogits = try required(clean, "clean")
    let adversarialLogits = try required(adversarial, "adversarial")
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
}
