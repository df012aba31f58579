import Torch

/// Untargeted FAB (Croce & Hein, 2020), L-inf, L2 or L1, as AutoAttack's plus version runs it ("fab").
///
/// FAB-T's iteration (`FABRun`) with the boundary chosen afresh at every iterate: among the classes other
/// than the true one, the one whose linearised boundary is closest, `|z_k − z_y| / ‖∇(z_k − z_y)‖_*` in the
/// dual norm (L1 for L-inf, L2 for L2, L-inf for L1). That takes one input gradient per class and iterate, so it costs
/// (classes − 1) times FAB-T's single target. Restarts after the first start at a random point at half eps.
public struct FABUntargeted: RestartingAttack {
  public let threatModel: ThreatModel
  public let iterations: Int
  public let restarts: Int
  public let seed: UInt64
  let fab: FABRun

  public var name: String { "FAB" }

  /// Reference parameters: 100 iterations, alphaMax 0.1, eta 1.05, beta 0.9 (the plus version: 5 restarts).
  public init(threatModel: ThreatModel, iterations: Int = 100, restarts: Int = 1, alphaMax: Double = 0.1,
              eta: Double = 1.05, beta: Double = 0.9, seed: UInt64 = 0) throws
  {
    guard iterations >= 1, restarts >= 1 else {
      throw AttackError.invalidParameter("FAB needs iterations and restarts ≥ 1, got \(iterations) and \(restarts)")
    }
    fab = FABRun(threatModel: threatModel, iterations: iterations, alphaMax: alphaMax, eta: eta, beta: beta)
    self.threatModel = threatModel
    self.iterations = iterations
    self.restarts = restarts
    self.seed = seed
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    var restart = 0
    return try perturbRemaining(model, images: images, labels: labels) { x, y, generator in
      defer { restart += 1 }
      let classes = try AttackSupport.logits(model, x).shape[1]
      let found = try fab.closestExample(model, images: x, labels: y, generator: restart > 0 ? generator : nil) { point in
        try closestBoundary(model, at: point, labels: y, classes: classes)
      }
      return try fab.keepInside(found, images: x)
    }
  }

  /// Per sample, f = z_k − z_y and its gradient for the class k ≠ y with the closest linearised boundary.
  private func closestBoundary(_ model: any Classifier, at x: Tensor, labels: Tensor, classes: Int) throws
    -> (f: Tensor, gradient: Tensor)
  {
    var bestF: Tensor?
    var bestGradient: Tensor?
    var bestDistance = try Tensor.full([x.shape[0]], .infinity, dtype: .float32, device: x.device)
    let dual: Double = threatModel.norm == .lInf ? 1 : threatModel.norm == .l2 ? 2 : .infinity
    for k in 0..<classes {
      let target = try labels.fullLike(Double(k))
      let (_, f, gradient) = try AttackSupport.lossAndGradient(model, at: x) {
        try AttackLoss.trueLogit($0, target) - AttackLoss.trueLogit($0, labels)
      }
      let length = try gradient.flattened(from: 1).norm(dual, dims: [1])
      let distance = try (try f.abs() / (try length + 1e-12)).to(.float32).maskedFill(try labels .== Double(k), .infinity)
      let closer = try distance .< bestDistance
      bestDistance = try Tensor.where(closer, distance, bestDistance)
      bestF = try bestF.map { try Tensor.where(closer, f, $0) } ?? f
      bestGradient = try bestGradient.map { try AttackSupport.choose(closer, gradient, $0) } ?? gradient
    }
    return (bestF!, bestGradient!)
  }
}
