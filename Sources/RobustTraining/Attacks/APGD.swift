import Torch

/// Auto-PGD (Croce & Hein, 2020), untargeted, on the cross-entropy ("APGD-CE") or DLR loss.
///
/// PGD with momentum 0.75 and an adaptive step size: it starts at 2·epsilon and is halved at
/// checkpoints (after 22%, then intervals shrinking by 3% of the budget down to 6%) for each
/// sample whose loss rose in at most `rho` of the steps since the last checkpoint, or whose best
/// loss did not improve since a checkpoint that did not halve it; a halved sample restarts from
/// its best point. Restarts run only on the samples not yet misclassified. In L1 it is APGD-L1 of
/// "Mind the box" (`APGDRun`): a sparse step and the box-aware projection.
public struct APGD: APGDFamily, RestartingAttack {
  /// The algorithm's settings, shared with APGD-T.
  public let run: APGDRun
  public let loss: AttackLoss
  public let restarts: Int
  public let seed: UInt64

  public var name: String { "APGD-\(loss.rawValue)" + (run.eotIterations > 1 ? " (EOT \(run.eotIterations))" : "") }

  /// Reference parameters: 100 iterations, rho 0.75, 1 restart (AutoAttack's standard version). `eotIterations`
  /// > 1 averages that many gradients per step (expectation over transformation, for randomised models);
  /// `largerEpsilons` runs the L1 schedule of growing-then-shrinking radii (`APGDRun.largerEpsilons`).
  public init(threatModel: ThreatModel, loss: AttackLoss = .crossEntropy, iterations: Int = 100, restarts: Int = 1,
              rho: Double = 0.75, eotIterations: Int = 1, largerEpsilons: Bool = false, seed: UInt64 = 0) throws
  {
    run = try APGDRun(threatModel: threatModel, iterations: iterations, restarts: restarts, rho: rho,
                      eotIterations: eotIterations, largerEpsilons: largerEpsilons)
    self.loss = loss
    self.restarts = restarts
    self.seed = seed
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try perturbRemaining(model, images: images, labels: labels) { x, y, generator in
      try run.attack(model, images: x, labels: y, generator: generator) { try loss($0, y) }
    }
  }
}

/// APGD and APGD-T: one algorithm (`APGDRun`) on different losses.
public protocol APGDFamily: Attack {
  var run: APGDRun { get }
}

extension APGDFamily {
  public var threatModel: ThreatModel { run.threatModel }
  public var iterations: Int { run.iterations }
  public var rho: Double { run.rho }
}
