import Torch

/// Shared plumbing for attacks: eval mode, input checks, input gradients and per-sample selection.
enum AttackSupport {
  /// Checks the inputs, runs `body` with the model in eval mode (restoring its modes afterwards)
  /// and validates the result against the threat model.
  static func run(_ attack: some Attack, _ model: any Classifier, images: Tensor, labels: Tensor,
                  _ body: () throws -> Tensor) throws -> Tensor
  {
    try checkInputs(images: images, labels: labels)
    let adversarial = try model.withMode(training: false) { try body() }
    try attack.threatModel.validate(adversarial, original: images, attack: attack.name)
    return adversarial
  }

  static func checkInputs(images: Tensor, labels: Tensor) throws {
    guard images.rank >= 2, images.dtype.isFloatingPoint else {
      throw AttackError.invalidInput("images must be a floating-point batch (N, ...), got \(images.dtype) \(images.shape)")
    }
    guard labels.rank == 1, labels.dtype == .int64, labels.shape[0] == images.shape[0] else {
      throw AttackError.invalidInput("labels must be int64 of shape [\(images.shape[0])], got \(labels.dtype) \(labels.shape)")
    }
    guard images.count > 0 else { return }
    let low = try images.min().item()
    let high = try images.max().item()
    guard low >= 0, high <= 1 else {
      throw AttackError.invalidInput("images must lie in [0, 1], found values in [\(low), \(high)]")
    }
  }

  /// Logits, per-sample loss (both detached) and the gradient of the summed loss (or of the loss itself,
  /// when `loss` gives one scalar) with respect to the input only; the parameters' `.grad` stay untouched.
  static func lossAndGradient(_ model: any Classifier, at x: Tensor, loss: (Tensor) throws -> Tensor) throws
    -> (logits: Tensor, loss: Tensor, gradient: Tensor)
  {
    try Autograd.withGrad {
      let input = try x.detached().requiresGrad(true)
      let logits = try model(input)
      let perSample = try loss(logits)
      let gradient = try Autograd.gradients(of: perSample.rank == 0 ? perSample : try perSample.sum(), wrt: [input])[0]
      return (try logits.detached(), try perSample.detached(), gradient)
    }
  }

  static func logits(_ model: any Classifier, _ x: Tensor) throws -> Tensor {
    try Autograd.withNoGrad { try model(x) }
  }

  /// Whether the model misclassifies each sample, shape (N), bool.
  static func misclassified(_ model: any Classifier, _ x: Tensor, labels: Tensor) throws -> Tensor {
    try logits(model, x).argmax(dim: 1) .!= labels
  }

  /// `mask ? a : b` per sample, with `mask` of shape (N).
  static func choose(_ mask: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    try Tensor.where(mask.reshaped(rowShape(a)), a, b)
  }

  /// The indices (int64) where `mask` is true.
  static func indices(of mask: Tensor) throws -> Tensor {
    try Tensor.arange(0, Double(mask.shape[0]), device: mask.device).indexed(by: mask)
  }

  static func count(_ mask: Tensor) throws -> Int { Int(try mask.sum().item()) }

  /// Uniform samples in [0, 1) drawn on the CPU (so every device sees the same numbers).
  static func uniform(_ shape: [Int], like x: Tensor, generator: Generator) throws -> Tensor {
    try Tensor.rand(shape, generator: generator).to(x.device, x.dtype)
  }

  static func normal(_ shape: [Int], like x: Tensor, generator: Generator) throws -> Tensor {
    try Tensor.randn(shape, generator: generator).to(x.device, x.dtype)
  }

  /// Uniform ±1 samples.
  static func randomSigns(_ shape: [Int], like x: Tensor, generator: Generator) throws -> Tensor {
    try (try Tensor.randint(0, 2, shape, generator: generator).to(x.device, x.dtype) * 2) - 1
  }

  /// The clean prediction's class count, which samples it gets right (bool, N), and the classes
  /// ranked by logit per sample (int64, N x classes): rank k > 0 is the k-th most likely other class,
  /// the target order of AutoAttack's targeted attacks.
  static func targetRanking(_ model: any Classifier, _ images: Tensor, labels: Tensor) throws
    -> (classes: Int, robust: Tensor, ranking: Tensor)
  {
    let cleanLogits = try logits(model, images)
    return (cleanLogits.shape[1], try cleanLogits.argmax(dim: 1) .== labels,
            try cleanLogits.sorted(dim: 1, descending: true).indices)
  }

  /// Runs `attackSubset` on the samples still marked robust and merges its successes: a sample
  /// becomes non-robust, and takes the returned example, only where that example is misclassified.
  /// `robust` (bool, N) and `adversarial` are updated in place.
  static func attackRemaining(_ model: any Classifier, images: Tensor, labels: Tensor, robust: Tensor,
                              adversarial: Tensor, _ attackSubset: (Tensor, Tensor, Tensor) throws -> Tensor) throws
  {
    let remaining = try indices(of: robust)
    guard remaining.shape[0] > 0 else { return }
    let subsetImages = try images.indexed(by: remaining)
    let subsetLabels = try labels.indexed(by: remaining)
    let candidates = try attackSubset(subsetImages, subsetLabels, remaining)
    let fooled = try misclassified(model, candidates, labels: subsetLabels)
    guard try count(fooled) > 0 else { return }
    let fooledIndices = try remaining.indexed(by: fooled)
    try adversarial.indexPut_(fooledIndices, try candidates.indexed(by: fooled))
    try robust.indexPut_(fooledIndices, try Tensor.zeros([fooledIndices.shape[0]], dtype: .bool, device: robust.device))
  }

}

/// An attack that runs (AutoAttack's way) on the points still classified correctly, restart after restart
/// (and target after target), drawing its randomness from one generator seeded by `seed` per call.
protocol RestartingAttack: Attack {
  var seed: UInt64 { get }
  var restarts: Int { get }
}

extension RestartingAttack {
  /// In eval mode: `restarts` times, `run(x, y, generator)` on the points not yet broken; a point takes the
  /// example of the first run that misclassifies it. Returns the adversarial batch.
  func perturbRemaining(_ model: any Classifier, images: Tensor, labels: Tensor,
                        _ run: (_ x: Tensor, _ y: Tensor, _ generator: Generator) throws -> Tensor) throws -> Tensor
  {
    try AttackSupport.run(self, model, images: images, labels: labels) {
      let generator = try Generator(seed: seed)
      let adversarial = try images.clone()
      let robust = try AttackSupport.misclassified(model, images, labels: labels).logicalNot()
      for _ in 0..<restarts {
        try AttackSupport.attackRemaining(model, images: images, labels: labels, robust: robust,
                                          adversarial: adversarial) { x, y, _ in try run(x, y, generator) }
      }
      return adversarial
    }
  }

  /// The targeted form: for each target rank 1...min(`targetClasses`, classes − 1) (rank 1: the most likely
  /// wrong class of the clean prediction) and each restart, `run(x, y, targets, generator, restart)` on the
  /// points not yet broken. `checkClasses` may refuse the model's class count.
  func perturbTargets(_ model: any Classifier, images: Tensor, labels: Tensor, targetClasses: Int,
                      checkClasses: (Int) throws -> Void = { _ in },
                      _ run: (_ x: Tensor, _ y: Tensor, _ targets: Tensor, _ generator: Generator, _ restart: Int) throws
                        -> Tensor) throws -> Tensor
  {
    try AttackSupport.run(self, model, images: images, labels: labels) {
      let generator = try Generator(seed: seed)
      let adversarial = try images.clone()
      let (classes, robust, ranking) = try AttackSupport.targetRanking(model, images, labels: labels)
      try checkClasses(classes)
      for rank in 1...min(targetClasses, max(classes - 1, 1)) {
        for restart in 0..<restarts {
          try AttackSupport.attackRemaining(model, images: images, labels: labels, robust: robust,
                                            adversarial: adversarial) { x, y, indices in
            try run(x, y, try ranking.select(dim: 1, rank).indexed(by: indices), generator, restart)
          }
        }
      }
      return adversarial
    }
  }
}
