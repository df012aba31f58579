import Torch

/// FAB-T (Croce & Hein, 2020), L-inf, L2 or L1: the targeted fast adaptive boundary attack.
///
/// For each target class (ranked 2nd, 3rd, … by the clean logits), FAB linearises the decision
/// boundary between the true and the target class at the current iterate, projects both the
/// iterate and the original image onto that hyperplane within [0, 1] (minimal steps in the norm),
/// and moves to a convex combination of the two extrapolated (`eta`) projections biased
/// (`alphaMax`) towards the original. Once misclassified, an iterate is recorded when closer than
/// the best so far and pulled back towards the image by `beta`. FAB looks for minimal
/// perturbations, so a sample counts as broken only when its best example is within epsilon.
/// Restarts after the first start from a random point at half epsilon.
public struct FABTargeted: RestartingAttack {
  public let threatModel: ThreatModel
  public let iterations: Int
  public let targetClasses: Int
  public let restarts: Int
  public let alphaMax: Double
  public let eta: Double
  public let beta: Double
  public let seed: UInt64
  let fab: FABRun

  public var name: String { "FAB-T" }

  /// Reference parameters: 100 iterations, 9 target classes, 1 restart, alphaMax 0.1, eta 1.05, beta 0.9.
  public init(threatModel: ThreatModel, iterations: Int = 100, targetClasses: Int = 9, restarts: Int = 1,
              alphaMax: Double = 0.1, eta: Double = 1.05, beta: Double = 0.9, seed: UInt64 = 0) throws
  {
    guard iterations >= 1, restarts >= 1, targetClasses >= 1 else {
      throw AttackError.invalidParameter(
        "FAB-T needs iterations, restarts and target classes ≥ 1, got \(iterations), \(restarts), \(targetClasses)")
    }
    fab = FABRun(threatModel: threatModel, iterations: iterations, alphaMax: alphaMax, eta: eta, beta: beta)
    self.threatModel = threatModel
    self.iterations = iterations
    self.targetClasses = targetClasses
    self.restarts = restarts
    self.alphaMax = alphaMax
    self.eta = eta
    self.beta = beta
    self.seed = seed
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try perturbTargets(model, images: images, labels: labels, targetClasses: targetClasses) { x, y, targets, generator, restart in
      let found = try fab.closestExample(model, images: x, labels: y, generator: restart > 0 ? generator : nil) { point in
        // f = z_target − z_true and its input gradient: the boundary is f = 0.
        let (_, f, gradient) = try AttackSupport.lossAndGradient(model, at: point) {
          try AttackLoss.trueLogit($0, targets) - AttackLoss.trueLogit($0, y)
        }
        return (f, gradient)
      }
      return try fab.keepInside(found, images: x)
    }
  }
}
