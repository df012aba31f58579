import Torch

/// FAB-T (Croce & Hein, 2020), L-inf: the targeted fast adaptive boundary attack.
///
/// For each target class (ranked 2nd, 3rd, … by the clean logits), FAB linearises the decision
/// boundary between the true and the target class at the current iterate, projects both the
/// iterate and the original image onto that hyperplane within [0, 1] (minimal L-inf steps),
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

  public var name: String { "FAB-T" }

  /// Reference parameters: 100 iterations, 9 target classes, 1 restart, alphaMax 0.1, eta 1.05, beta 0.9.
  public init(threatModel: ThreatModel, iterations: Int = 100, targetClasses: Int = 9, restarts: Int = 1,
              alphaMax: Double = 0.1, eta: Double = 1.05, beta: Double = 0.9, seed: UInt64 = 0) throws
  {
    guard threatModel.norm == .lInf else {
      throw AttackError.invalidParameter("FAB-T is implemented for the L-inf threat model only, not \(threatModel.norm)")
    }
    guard iterations >= 1, restarts >= 1, targetClasses >= 1 else {
      throw AttackError.invalidParameter(
        "FAB-T needs iterations, restarts and target classes ≥ 1, got \(iterations), \(restarts), \(targetClasses)")
    }
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
      let found = try singleRun(model, images: x, labels: y, targets: targets, generator: restart > 0 ? generator : nil)
      // Keep only examples inside the ball; the others go back to the clean image.
      let inside = try threatModel.distance(found, x) .<= threatModel.epsilon
      return try AttackSupport.choose(inside, found, x)
    }
  }

  /// The closest misclassified iterate found per sample (the image itself where none was).
  private func singleRun(_ model: any Classifier, images: Tensor, labels: Tensor, targets: Tensor,
                         generator: Generator?) throws -> Tensor
  {
    let n = images.shape[0]
    var x = images
    if let generator {
      let t = try AttackSupport.uniform(images.shape, like: images, generator: generator) * 2 - 1
      let direction = try t / (try t.flattened(from: 1).abs().max(dims: [1]).reshaped(rowShape(t)) + 1e-12)
      x = try (try images + (try direction * (0.5 * threatModel.epsilon))).clamped(min: 0, max: 1)
    }
    var best = images
    var bestDistance = try Tensor.full([n], .infinity, dtype: .float32, device: images.device)
    let flatImages = try images.flattened(from: 1)
    for _ in 0..<iterations {
      // f = z_target − z_true and its input gradient: the boundary is f = 0.
      let (_, f, gradient) = try AttackSupport.lossAndGradient(model, at: x) {
        try AttackLoss.trueLogit($0, targets) - AttackLoss.trueLogit($0, labels)
      }
      let w = try gradient.flattened(from: 1)
      let flatX = try x.flattened(from: 1)
      // Steps d with <w, d> = r put a point on the linearised boundary <w, p + d> = <w, x> − f.
      let fromIterate = try -f
      let fromImage = try fromIterate + (try (try w * (try flatX - flatImages)).sum(dims: [1]))
      let steps = try LinfHyperplaneProjection.minimalSteps(
        points: try Tensor.cat([flatX, flatImages]), normals: try Tensor.cat([w, w]),
        offsets: try Tensor.cat([fromIterate, fromImage]))
      let stepFromIterate = try steps.slice(dim: 0, 0, n).reshaped(images.shape)
      let stepFromImage = try steps.slice(dim: 0, n, 2 * n).reshaped(images.shape)
      let lengths = try steps.abs().max(dims: [1]).clamped(min: 1e-8)
      let a1 = try lengths.slice(dim: 0, 0, n)
      let a2 = try lengths.slice(dim: 0, n, 2 * n)
      let alpha = try (a1 / (try a1 + a2)).clamped(min: 0, max: alphaMax).reshaped(rowShape(images))
      let towardsIterate = try (x + (try stepFromIterate * eta)) * (try 1 - alpha)
      let towardsImage = try (images + (try stepFromImage * eta)) * alpha
      x = try (try towardsIterate + towardsImage).clamped(min: 0, max: 1)

      let isAdversarial = try AttackSupport.misclassified(model, x, labels: labels)
      let distance = try threatModel.distance(x, images).to(.float32)
      let closer = try isAdversarial.logicalAnd(try distance .< bestDistance)
      best = try AttackSupport.choose(closer, x, best)
      bestDistance = try Tensor.where(closer, distance, bestDistance)
      x = try AttackSupport.choose(isAdversarial, try images + (try (try x - images) * beta), x)
    }
    return best
  }
}
