import Torch

/// APGD-T (Croce & Hein, 2020): APGD on the targeted DLR loss, run once per target class.
///
/// The targets are the classes ranked 2nd, 3rd, … by the clean logits of each sample
/// (`targetClasses` of them, at most classes − 1); each target's runs attack only the samples
/// no earlier target has broken.
public struct APGDTargeted: Attack {
  public let threatModel: ThreatModel
  public let iterations: Int
  public let restarts: Int
  public let targetClasses: Int
  public let rho: Double
  public let seed: UInt64

  public var name: String { "APGD-T" }

  /// Reference parameters: 100 iterations, 9 target classes, 1 restart per target, rho 0.75.
  public init(threatModel: ThreatModel, iterations: Int = 100, targetClasses: Int = 9, restarts: Int = 1,
              rho: Double = 0.75, seed: UInt64 = 0) throws
  {
    try APGDRun.checkParameters(iterations: iterations, restarts: restarts, rho: rho)
    guard targetClasses >= 1 else {
      throw AttackError.invalidParameter("APGD-T target classes \(targetClasses) must be at least 1")
    }
    self.threatModel = threatModel
    self.iterations = iterations
    self.restarts = restarts
    self.targetClasses = targetClasses
    self.rho = rho
    self.seed = seed
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try AttackSupport.run(self, model, images: images, labels: labels) {
      let generator = try Generator(seed: seed)
      let adversarial = try images.clone()
      let (classes, robust, ranking) = try AttackSupport.targetRanking(model, images, labels: labels)
      guard classes >= 4 else {
        throw AttackError.invalidInput("APGD-T's targeted DLR loss needs at least 4 classes, the model has \(classes)")
      }
      let run = APGDRun(threatModel: threatModel, iterations: iterations, rho: rho)
      try AttackSupport.attackTargets(model, images: images, labels: labels, robust: robust, adversarial: adversarial,
                                      ranking: ranking, ranks: 1...min(targetClasses, classes - 1), restarts: restarts) {
        x, y, targets, _ in
        try run.attack(model, images: x, labels: y, generator: generator) {
          try AttackLoss.targetedDLR($0, y, targets: targets)
        }
      }
      return adversarial
    }
  }
}
