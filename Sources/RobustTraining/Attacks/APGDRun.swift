import Torch

/// One APGD run (the algorithm shared by APGD and APGD-T), in L-inf, L2 or L1.
///
/// L-inf and L2: momentum 0.75 and a step of 2·eps halved at checkpoints (see `APGD`). L1 ("Mind the box",
/// Croce & Hein 2021): no momentum; a sparse step (`ThreatModel.l1Step`) moving the entries above a per-sample
/// quantile of the gradient's magnitude, the share starting at 20%; the box-aware projection
/// (`L1BoxProjection`); a step of eps, and every 4% of the budget a checkpoint per sample: when the best
/// point's support shrank by more than 5% the step goes back to eps and the run to the best point, else the
/// step is divided by 1.5 (not below eps/10); the share becomes the best point's support / 1.5.
public struct APGDRun: Sendable {
  public let threatModel: ThreatModel
  public let iterations: Int
  public let rho: Double
  public let momentum = 0.75
  /// Gradients averaged per step (expectation over transformation; 1: a plain gradient).
  public let eotIterations: Int
  /// L1 only: run at 3·eps, 2·eps, then eps for 30%, 30% and 40% of the iterations, each stage from the last
  /// one's best point projected onto its ball (the official code's `use_largereps`, which its L1 standard
  /// version sets); only examples found in the last stage count.
  public let largerEpsilons: Bool

  /// Checks the settings (and the restarts of the attack that runs it).
  init(threatModel: ThreatModel, iterations: Int, restarts: Int, rho: Double, eotIterations: Int = 1,
       largerEpsilons: Bool = false) throws
  {
    guard iterations >= 1 else { throw AttackError.invalidParameter("APGD iterations \(iterations) must be at least 1") }
    guard restarts >= 1 else { throw AttackError.invalidParameter("APGD restarts \(restarts) must be at least 1") }
    guard rho > 0, rho <= 1 else { throw AttackError.invalidParameter("APGD rho \(rho) must be in (0, 1]") }
    guard eotIterations >= 1 else {
      throw AttackError.invalidParameter("APGD EOT iterations \(eotIterations) must be at least 1")
    }
    guard !largerEpsilons || threatModel.norm == .l1 else {
      throw AttackError.invalidParameter("APGD's larger-epsilon schedule is for L1, not \(threatModel.norm)")
    }
    guard !largerEpsilons || iterations >= 3 else {
      throw AttackError.invalidParameter("APGD's larger-epsilon schedule needs at least 3 iterations, got \(iterations)")
    }
    self.threatModel = threatModel
    self.iterations = iterations
    self.rho = rho
    self.eotIterations = eotIterations
    self.largerEpsilons = largerEpsilons
  }

  /// The first step size as a multiple of eps.
  private var stepInEpsilons: Double { threatModel.norm == .l1 ? 1 : 2 }

  /// Returns, per sample, the first misclassified iterate found (the clean image otherwise).
  func attack(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator,
              loss: (Tensor) throws -> Tensor) throws -> Tensor
  {
    guard largerEpsilons else {
      let start = try randomStart(images, epsilon: threatModel.epsilon, generator: generator)
      let run = try singleRun(model, images: images, labels: labels, from: start, epsilon: threatModel.epsilon,
                              iterations: iterations, givenStart: false, loss: loss)
      return try AttackSupport.choose(run.fooled, run.adversarial, images)
    }
    let eps = threatModel.epsilon
    let first = Int((0.3 * Double(iterations)).rounded(.up))
    let stages = [(3 * eps, first), (2 * eps, first), (eps, iterations - 2 * first)].filter { $0.1 > 0 }
    var x = try randomStart(images, epsilon: 3 * eps, generator: generator)
    var last: (best: Tensor, adversarial: Tensor, fooled: Tensor)?
    for (radius, steps) in stages {
      x = try (try images + (try L1BoxProjection.project(offset: try x - images, center: images, epsilon: radius)))
        .clamped(min: 0, max: 1)
      let run = try singleRun(model, images: images, labels: labels, from: x, epsilon: radius, iterations: steps,
                              givenStart: true, loss: loss)
      x = run.best
      last = run
    }
    return try AttackSupport.choose(last!.fooled, last!.adversarial, images)
  }

  /// A random start: L-inf and L2 a point of the sphere of radius `epsilon` (L-inf: scaled so that the largest
  /// coordinate is epsilon), L1 a Gaussian offset projected onto the ball and the box.
  private func randomStart(_ images: Tensor, epsilon: Double, generator: Generator) throws -> Tensor {
    let direction: Tensor
    switch threatModel.norm {
    case .lInf:
      let t = try AttackSupport.uniform(images.shape, like: images, generator: generator) * 2 - 1
      direction = try t / (try t.flattened(from: 1).abs().max(dims: [1]).reshaped(rowShape(t)) + 1e-12)
    case .l2:
      let t = try AttackSupport.normal(images.shape, like: images, generator: generator)
      direction = try t / (try perSampleL2(t) + 1e-12)
    case .l1:
      let t = try AttackSupport.normal(images.shape, like: images, generator: generator)
      return try (try images + (try L1BoxProjection.project(offset: t, center: images, epsilon: epsilon)))
        .clamped(min: 0, max: 1)
    }
    return try (try images + (try direction * epsilon)).clamped(min: 0, max: 1)
  }

  /// Logits and loss at `x` and the input gradient averaged over `eotIterations` passes (the logits and loss
  /// are the last pass's).
  private func lossAndGradient(_ model: any Classifier, at x: Tensor, loss: (Tensor) throws -> Tensor) throws
    -> (Tensor, Tensor, Tensor)
  {
    var (logits, value, gradient) = try AttackSupport.lossAndGradient(model, at: x, loss: loss)
    guard eotIterations > 1 else { return (logits, value, gradient) }
    for _ in 1..<eotIterations {
      let next = try AttackSupport.lossAndGradient(model, at: x, loss: loss)
      (logits, value, gradient) = (next.logits, next.loss, try gradient + next.gradient)
    }
    return (logits, value, try gradient / Double(eotIterations))
  }

  /// Number of nonzero entries per sample, float32 (N).
  private func support(_ offset: Tensor) throws -> Tensor {
    try (try offset.flattened(from: 1) .!= 0.0).to(.float32).sum(dims: [1])
  }

  /// One run at radius `epsilon` from `start`: the best-loss point, the first misclassified iterate per sample
  /// and which samples were misclassified at some iterate.
  private func singleRun(_ model: any Classifier, images: Tensor, labels: Tensor, from start: Tensor,
                         epsilon: Double, iterations: Int, givenStart: Bool, loss: (Tensor) throws -> Tensor) throws
    -> (best: Tensor, adversarial: Tensor, fooled: Tensor)
  {
    let threat = try ThreatModel(norm: threatModel.norm, epsilon: epsilon)
    let n = Double(iterations)
    let isL1 = threatModel.norm == .l1
    let minimumInterval = max(Int(0.06 * n), 1)
    let intervalDecrement = max(Int(0.03 * n), 1)
    var interval = isL1 ? max(Int(0.04 * n), 1) : max(Int(0.22 * n), 1)
    let samples = images.shape[0]
    let features = images.count / max(samples, 1)

    var x = start
    var (logits, currentLoss, gradient) = try lossAndGradient(model, at: x, loss: loss)
    var adversarial = x
    var fooled = try logits.argmax(dim: 1) .!= labels
    var best = x
    var bestLoss = currentLoss
    var bestGradient = gradient
    let firstStep = stepInEpsilons * epsilon
    var stepSize = try Tensor.full(rowShape(images), firstStep, dtype: images.dtype, device: images.device)
    var previous = x
    var lossHistory = [currentLoss]  // lossHistory[i] is the loss after i steps
    var stepsSinceCheckpoint = 0
    var bestLossAtLastCheckpoint = bestLoss
    var halvedAtLastCheckpoint = try Tensor.ones([samples], dtype: .bool, device: images.device)
    // L1: the share of coordinates a step moves, and the best point's support at the last checkpoint.
    var share = try Tensor.full([samples], 0.2, dtype: .float32, device: images.device)
    var supportAtLastCheckpoint = try Tensor.full([samples], Double(features), dtype: .float32, device: images.device)
    if isL1 && givenStart {
      supportAtLastCheckpoint = try support(try x - images)
      share = try supportAtLastCheckpoint / Double(features) / 1.5
    }

    for i in 0..<iterations {
      if isL1 {
        let moved = try x + (try ThreatModel.l1Step(gradient, share: share) * stepSize)
        x = try threat.project(moved, around: images)
      } else {
        let weight = i == 0 ? 1.0 : momentum
        let momentumTerm = try x - previous
        previous = x
        let z = try threat.project(try x + (try threat.steepestAscentStep(gradient) * stepSize), around: images)
        let blended = try (try x + (try (try z - x) * weight)) + (try momentumTerm * (1 - weight))
        x = try threat.project(blended, around: images)
      }

      (logits, currentLoss, gradient) = try lossAndGradient(model, at: x, loss: loss)
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
      stepsSinceCheckpoint = 0
      if isL1 {
        let supportNow = try support(try best - images)
        let restart = try (try supportNow / supportAtLastCheckpoint) .< 0.95
        share = try supportNow / Double(features) / 1.5
        stepSize = try AttackSupport.choose(restart, try stepSize.fullLike(firstStep), try stepSize / 1.5)
          .clamped(min: firstStep / 10, max: firstStep)
        supportAtLastCheckpoint = supportNow
        x = try AttackSupport.choose(restart, best, x)
        gradient = try AttackSupport.choose(restart, bestGradient, gradient)
        continue
      }
      // Checkpoint: halve the step where progress stalled, and go back to the best point there.
      var increases = try Tensor.zeros([samples], dtype: .float32, device: images.device)
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
    }
    return (best, adversarial, fooled)
  }
}
