import Torch

/// Auto-PGD (Croce & Hein, 2020), untargeted, on the cross-entropy ("APGD-CE") or DLR loss.
///
/// PGD with momentum 0.75 and an adaptive step size: it starts at 2·epsilon and is halved at
/// checkpoints (after 22%, then intervals shrinking by 3% of the budget down to 6%) for each
/// sample whose loss rose in at most `rho` of the steps since the last checkpoint, or whose best
/// loss did not improve since a checkpoint that did not halve it; a halved sample restarts from
/// its best point. Restarts run only on the samples not yet misclassified.
public struct APGD: APGDFamily, RestartingAttack {
  /// The algorithm's settings, shared with APGD-T.
  public let run: APGDRun
  public let loss: AttackLoss
  public let restarts: Int
  public let seed: UInt64

  public var name: String { "APGD-\(loss.rawValue)" }

  /// Reference parameters: 100 iterations, rho 0.75, 1 restart (AutoAttack's standard version).
  public init(threatModel: ThreatModel, loss: AttackLoss = .crossEntropy, iterations: Int = 100, restarts: Int = 1,
              rho: Double = 0.75, seed: UInt64 = 0) throws
  {
    run = try APGDRun(threatModel: threatModel, iterations: iterations, restarts: restarts, rho: rho)
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

/// One APGD run (the algorithm shared by APGD and APGD-T).
public struct APGDRun: Sendable {
  public let threatModel: ThreatModel
  public let iterations: Int
  public let rho: Double
  public let momentum = 0.75

  /// Checks the settings (and the restarts of the attack that runs it).
  init(threatModel: ThreatModel, iterations: Int, restarts: Int, rho: Double) throws {
    guard iterations >= 1 else { throw AttackError.invalidParameter("APGD iterations \(iterations) must be at least 1") }
    guard restarts >= 1 else { throw AttackError.invalidParameter("APGD restarts \(restarts) must be at least 1") }
    guard rho > 0, rho <= 1 else { throw AttackError.invalidParameter("APGD rho \(rho) must be in (0, 1]") }
    self.threatModel = threatModel
    self.iterations = iterations
    self.rho = rho
  }

  /// A random point of the ball's surface (L-inf: scaled so the largest coordinate is epsilon).
  private func start(_ images: Tensor, generator: Generator) throws -> Tensor {
    let direction: Tensor
    switch threatModel.norm {
    case .lInf:
      let t = try AttackSupport.uniform(images.shape, like: images, generator: generator) * 2 - 1
      direction = try t / (try t.flattened(from: 1).abs().max(dims: [1]).reshaped(rowShape(t)) + 1e-12)
    case .l2:
      let t = try AttackSupport.normal(images.shape, like: images, generator: generator)
      direction = try t / (try perSampleL2(t) + 1e-12)
    }
    return try (try images + (try direction * threatModel.epsilon)).clamped(min: 0, max: 1)
  }

  /// Returns, per sample, the first misclassified iterate found (the start point otherwise).
  func attack(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator,
              loss: (Tensor) throws -> Tensor) throws -> Tensor
  {
    let n = Double(iterations)
    let minimumInterval = max(Int(0.06 * n), 1)
    let intervalDecrement = max(Int(0.03 * n), 1)
    var interval = max(Int(0.22 * n), 1)

    var x = try start(images, generator: generator)
    var (logits, currentLoss, gradient) = try AttackSupport.lossAndGradient(model, at: x, loss: loss)
    var adversarial = x
    var fooled = try logits.argmax(dim: 1) .!= labels
    var best = x
    var bestLoss = currentLoss
    var bestGradient = gradient
    var stepSize = try Tensor.full(rowShape(images), 2 * threatModel.epsilon, dtype: images.dtype, device: images.device)
    var previous = x
    var lossHistory = [currentLoss]  // lossHistory[i] is the loss after i steps
    var stepsSinceCheckpoint = 0
    var bestLossAtLastCheckpoint = bestLoss
    var halvedAtLastCheckpoint = try Tensor.ones([images.shape[0]], dtype: .bool, device: images.device)

    for i in 0..<iterations {
      let weight = i == 0 ? 1.0 : momentum
      let momentumTerm = try x - previous
      previous = x
      let z = try threatModel.project(try x + (try threatModel.steepestAscentStep(gradient) * stepSize), around: images)
      let blended = try (try x + (try (try z - x) * weight)) + (try momentumTerm * (1 - weight))
      x = try threatModel.project(blended, around: images)

      (logits, currentLoss, gradient) = try AttackSupport.lossAndGradient(model, at: x, loss: loss)
      let misclassified = try logits.argmax(dim: 1) .!= labels
      adversarial = try AttackSupport.choose(misclassified, x, adversarial)
      fooled = try fooled.logicalOr(misclassified)
      lossHistory.append(currentLoss)

      let improved = try currentLoss .> bestLoss
      best = try AttackSupport.choose(improved, x, best)
      bestGradient = try AttackSupport.choose(improved, gradient, bestGradient)
      bestLoss = try Tensor.where(improved, currentLoss, bestLoss)

      stepsSinceCheckpoint += 1
      guard stepsSinceCheckpoint == interval else { continue }
      // Checkpoint: halve the step where progress stalled, and go back to the best point there.
      var increases = try Tensor.zeros([images.shape[0]], dtype: .float32, device: images.device)
      for j in (i + 1 - interval)...i {
        increases = try increases + (try (try lossHistory[j + 1] .> lossHistory[j]).to(.float32))
      }
      let oscillating = try increases .<= (Double(interval) * rho)
      let stalled = try halvedAtLastCheckpoint.logicalNot().logicalAnd(try bestLossAtLastCheckpoint .>= bestLoss)
      let halve = try oscillating.logicalOr(stalled)
      halvedAtLastCheckpoint = halve
      bestLossAtLastCheckpoint = bestLoss
      stepSize = try AttackSupport.choose(halve, try stepSize * 0.5, stepSize)
      x = try AttackSupport.choose(halve, best, x)
      gradient = try AttackSupport.choose(halve, bestGradient, gradient)
      interval = max(interval - intervalDecrement, minimumInterval)
      stepsSinceCheckpoint = 0
    }
    return try AttackSupport.choose(fooled, adversarial, images)
  }
}
