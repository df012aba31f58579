import Torch

/// Projected gradient descent (Madry et al., 2018) with per-sample worst-case tracking.
///
/// Each restart starts at a random point of the ball (when `randomStart`) and takes `steps`
/// steepest-ascent steps of `stepSize` on `loss`, projecting after each. Every iterate is scored
/// per sample: a misclassified iterate beats any other, else the higher loss wins. The best
/// iterate over all steps and restarts is returned, so more steps or restarts (same seed) are
/// never weaker. Restarts after the first run only on the samples not yet misclassified.
public struct PGD: Attack {
  public let threatModel: ThreatModel
  public let steps: Int
  public let stepSize: Double
  public let restarts: Int
  public let randomStart: Bool
  public let loss: AttackLoss
  public let seed: UInt64
  public let name: String

  /// - Parameter stepSize: defaults to `2.5 * epsilon / steps` (Madry et al.).
  public init(threatModel: ThreatModel, steps: Int = 20, stepSize: Double? = nil, restarts: Int = 1,
              randomStart: Bool = true, loss: AttackLoss = .crossEntropy, seed: UInt64 = 0, name: String? = nil) throws
  {
    guard steps >= 1 else { throw AttackError.invalidParameter("PGD steps \(steps) must be at least 1") }
    guard restarts >= 1 else { throw AttackError.invalidParameter("PGD restarts \(restarts) must be at least 1") }
    let size = stepSize ?? 2.5 * threatModel.epsilon / Double(steps)
    guard size.isFinite, size >= 0 else { throw AttackError.invalidParameter("PGD step size \(size) must be ≥ 0") }
    self.threatModel = threatModel
    self.steps = steps
    self.stepSize = size
    self.restarts = restarts
    self.randomStart = randomStart
    self.loss = loss
    self.seed = seed
    let suffix = (loss == .crossEntropy ? "" : "-\(loss.rawValue)") + (restarts > 1 ? "x\(restarts)" : "")
    self.name = name ?? "PGD-\(steps)\(suffix)"
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try AttackSupport.run(self, model, images: images, labels: labels) {
      let generator = try Generator(seed: seed)
      let best = try images.clone()
      let bestScore = try Tensor.full([images.shape[0]], -.infinity, dtype: .float32, device: images.device)
      for _ in 0..<restarts {
        // The start noise is drawn for the whole batch so that each sample's trajectory depends
        // only on the seed, not on which samples are still being attacked.
        let noise = randomStart ? try startNoise(like: images, generator: generator) : nil
        let active = try AttackSupport.indices(of: bestScore .!= Double.infinity)
        guard active.shape[0] > 0 else { break }
        let x = try images.indexed(by: active)
        let y = try labels.indexed(by: active)
        let (runBest, runScore) = try singleRun(model, images: x, labels: y, noise: try noise?.indexed(by: active))
        let improved = try runScore .> bestScore.indexed(by: active)
        try best.indexPut_(active, try AttackSupport.choose(improved, runBest, try best.indexed(by: active)))
        try bestScore.indexPut_(active, try Tensor.where(improved, runScore, try bestScore.indexed(by: active)))
      }
      return best
    }
  }

  /// The start noise `perturb` draws for a batch of `images`' shape (with one restart: the same for
  /// every batch of that shape).
  public func startNoise(like images: Tensor) throws -> Tensor? {
    randomStart ? try startNoise(like: images, generator: try Generator(seed: seed)) : nil
  }

  /// `perturb` with one restart and the given start noise, without host waits (no input checks, no
  /// early exit, no indexing), so that it can be recorded in a CUDA graph; same result. Call it with
  /// the model in eval mode.
  func bestIterate(_ model: any Classifier, images: Tensor, labels: Tensor, noise: Tensor?) throws -> Tensor {
    guard restarts == 1 else { throw AttackError.invalidParameter("\(name): the graph-ready form has one restart") }
    let (best, score) = try singleRun(model, images: images, labels: labels, noise: noise, earlyExit: false)
    // perturb keeps the clean image where no iterate scored above -inf (a non-finite loss)
    return try AttackSupport.choose(try score .> -Double.infinity, best, images)
  }

  private func startNoise(like images: Tensor, generator: Generator) throws -> Tensor {
    try threatModel.randomOffset(like: images, generator: generator)
  }

  /// One PGD run; returns the best iterate per sample and its score (+inf once misclassified).
  private func singleRun(_ model: any Classifier, images: Tensor, labels: Tensor, noise: Tensor?,
                         earlyExit: Bool = true) throws -> (Tensor, Tensor)
  {
    let start = try noise.map { try threatModel.project(try images + $0, around: images) } ?? images
    var best = start
    var bestScore = try Tensor.full([images.shape[0]], -.infinity, dtype: .float32, device: images.device)
    let ascent = GradientAscent(threatModel: threatModel, stepSize: stepSize, update: .projected)
    _ = try ascent.run(model, images: images, from: start, steps: steps, objective: { try loss($0, labels) }) {
      step, x, logits, lossValue in
      let fooled = try logits.argmax(dim: 1) .!= labels
      let score = try lossValue.to(.float32).maskedFill(fooled, .infinity)
      let improved = try score .> bestScore
      best = try AttackSupport.choose(improved, x, best)
      bestScore = try Tensor.where(improved, score, bestScore)
      // Stop early once every sample is misclassified; checked every 10 steps only, because the check
      // reads a value back, which on a GPU makes the host wait for the queued work.
      // (Without it the result is the same: a misclassified sample's best iterate cannot change.)
      return try earlyExit && step < steps && step % 10 == 9 && (bestScore .== Double.infinity).all().item() != 0
    }
    return (best, bestScore)
  }
}

extension PGD {
  /// The evaluation PGD, one definition for `agr eval`'s pgdN and the trainer's per-epoch test: in `norm` (L-inf
  /// by default), one random start, cross-entropy, `steps` steps of `stepSize`, named with its step ("PGD-20
  /// (step 2/255)", "PGD-20 L2 (step 32/255)").
  public static func evaluation(epsilon: Double, norm: Norm = .lInf, steps: Int, stepSize: Double, seed: UInt64)
    throws -> PGD
  {
    try PGD(threatModel: try ThreatModel(norm: norm, epsilon: epsilon), steps: steps, stepSize: stepSize, restarts: 1,
            randomStart: true, loss: .crossEntropy, seed: seed, name: label(steps: steps, stepSize: stepSize, norm: norm))
  }

  /// "PGD-20 (step 2/255)": how the evaluation PGD is named wherever it appears (the norm named unless L-inf).
  public static func label(steps: Int, stepSize: Double, norm: Norm = .lInf) -> String {
    "PGD-\(steps)\(norm == .lInf ? "" : " \(norm)") (step \(stepSizeText(stepSize)))"
  }
}
