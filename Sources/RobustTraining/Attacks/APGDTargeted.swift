import Torch

/// APGD-T (Croce & Hein, 2020): APGD on the targeted DLR loss, run once per target class.
///
/// The targets are the classes ranked 2nd, 3rd, … by the clean logits of each sample
/// (`targetClasses` of them, at most classes − 1); each target's runs attack only the samples
/// no earlier target has broken.
public struct APGDTargeted: APGDFamily, RestartingAttack {
  /// APGD's algorithm and settings, run per target on the targeted DLR loss.
  public let run: APGDRun
  public let restarts: Int
  public let targetClasses: Int
  public let seed: UInt64

  public var name: String { "APGD-T" }

  /// Reference parameters: 100 iterations, 9 target classes, 1 restart per target, rho 0.75.
  /// `largerEpsilons`: the L1 schedule of `APGDRun.largerEpsilons`.
  public init(threatModel: ThreatModel, iterations: Int = 100, targetClasses: Int = 9, restarts: Int = 1,
              rho: Double = 0.75, largerEpsilons: Bool = false, seed: UInt64 = 0) throws
  {
    run = try APGDRun(threatModel: threatModel, iterations: iterations, restarts: restarts, rho: rho,
                      largerEpsilons: largerEpsilons)
    guard targetClasses >= 1 else {
      throw AttackError.invalidParameter("APGD-T target classes \(targetClasses) must be at least 1")
    }
    self.restarts = restarts
    self.targetClasses = targetClasses
    self.seed = seed
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try perturbTargets(model, images: images, labels: labels, targetClasses: targetClasses, checkClasses: {
      guard $0 >= 4 else {
        throw AttackError.invalidInput("APGD-T's targeted DLR loss needs at least 4 classes, the model has \($0)")
      }
    }) { x, y, targets, generator, _ in
      try run.attack(model, images: x, labels: y, generator: generator) { try AttackLoss.targetedDLR($0, y, targets: targets) }
    }
  }
}
