import Torch

/// One optimisation step of a training method, with or without AGR. Produces device-resident
/// metrics only: nothing in here waits for the device.
public final class TrainingStep {
  public let model: any Classifier
  public let optimizer: any Optimizer
  /// What the step minimises (by default `method`'s objective); replace it to train another loss.
  public var objective: any TrainingObjective
  public let perturbation: TrainingPerturbation
  public let cleanPassInTrainMode: Bool
  public let precision: Precision
  /// What becomes of the gradients between the backward passes and the optimizer when `agr` is on (and
  /// what measures them when `measure` is): AGR by default; replace it to steer the update otherwise.
  public var gradientTransform: any GradientTransform
  /// How AGR's arithmetic runs (the same numbers either way); by default the cheaper one for the
  /// parameters' device (`ReconstructionPath.preferred(on:)`). Only for the default transform.
  public var reconstructionPath: ReconstructionPath {
    get { (gradientTransform as? AdaptiveGradientReconstruction)?.path ?? .perTensor }
    set { (gradientTransform as? AdaptiveGradientReconstruction)?.path = newValue }
  }
  /// A method that changes the step (`StepVariation`; nil: none): AWP is one. `callAsFunction(...
  /// perturbWeights:)` turns it off (AWP's warm-up epochs).
  public var variation: (any StepVariation)?
  /// AWP, when it is the step's variation.
  public var weightPerturbation: AdversarialWeightPerturbation? {
    get { variation as? AdversarialWeightPerturbation }
    set { variation = newValue }
  }
  /// GradAlign's penalty added to the method loss (nil: none).
  public var gradientAlignment: GradientAlignment?
  /// Free-AT's perturbation, when it is the training attack: the step then trains on it and advances it with
  /// the input gradient of the same backward pass (the trainer replays each batch `replays` times).
  public let freeAdversarial: FreeAdversarialTraining?
  /// Data-parallel training (nil: one process): the gradients, BatchNorm statistics and metrics are
  /// averaged over the ranks between the backward passes and AGR.
  public private(set) var dataParallel: DataParallel?
  /// The overlapped all-reduce of the gradients (nil: one process, or the flat all-reduce).
  public private(set) var reducer: GradientReducer?
  let parameters: [Tensor]

  public struct Output {
    /// The method loss (detached scalar).
    public let loss: Tensor
    /// Correct predictions on the clean and adversarial batch (int64 scalars), when computed.
    public let cleanCorrect: Tensor?
    public let adversarialCorrect: Tensor?
    /// Per-tensor gradient statistics, when both gradients were computed.
    public let statistics: GradientReconstruction.Statistics?
    /// Per-tensor conflict indicator (1 where cs <= 0), when AGR reconstructed the gradient.
    public let conflicts: Tensor?
    /// L2 norm of the whole gradient that was applied (to catch non-finite values).
    public let gradientNorm: Tensor
  }

  /// `objective`: what the step minimises (default: `method`'s objective with `beta`).
  public init(model: any Classifier, optimizer: any Optimizer, method: TrainingMethod, perturbation: TrainingPerturbation,
              reconstruction: GradientReconstruction, beta: Double = 6, cleanPassInTrainMode: Bool = true,
              precision: Precision = .fp32, objective: (any TrainingObjective)? = nil)
  {
    self.model = model
    self.optimizer = optimizer
    self.objective = objective ?? method.objective(beta: beta)
    self.perturbation = perturbation
    self.cleanPassInTrainMode = cleanPassInTrainMode
    self.precision = precision
    parameters = optimizer.parameters
    freeAdversarial = FreeAdversarialTraining(perturbation)
    gradientTransform = AdaptiveGradientReconstruction(
      reconstruction, path: .preferred(on: optimizer.parameters.first?.device ?? .cpu))
  }

  /// Trains as one rank of `job` (nil: alone): the gradients, BatchNorm statistics and metrics are averaged
  /// over the ranks between the backward passes and AGR, in buckets overlapped with the backward passes
  /// when `bucketBytes` (by default the job's) is positive.
  public func distribute(over job: DataParallel?, bucketBytes: Int? = nil) throws {
    if job != nil, freeAdversarial != nil {
      throw FreeAdversarialTraining.notDistributed
    }
    dataParallel = job
    reducer = try job?.makeReducer(for: parameters, bucketBytes: bucketBytes ?? job!.bucketBytes)
  }

  /// Runs one step. `agr`: reconstruct the gradient; `measure`: compute both gradients and their
  /// statistics even without AGR (costs one more backward pass; for diagnostics). `shard`: under data
  /// parallelism, the rows of the global batch that `images` are.
  public func callAsFunction(images: Tensor, labels: Tensor, agr: Bool, measure: Bool = false, perturbWeights: Bool = true,
                             shard: BatchShard? = nil) throws -> Output
  {
    let device = images.device
    let autocast = precision == .bf16
    if let shard { dataParallel?.currentShare = shard.share }
    // Free-AT: the adversarial batch is clip01(x + delta), with delta a leaf whose gradient the method's backward
    // pass gives too (`update`).
    let freeLeaf = try freeAdversarial.map { try $0.leaf(for: images) }
    let adversarial = objective.needsAdversarialLogits
      ? try freeLeaf.map { try (try images + $0).clamped(min: 0, max: 1) } ?? Torch.withAutocast(device: device, enabled: autocast) {
        try perturbation.perturb(model, images: images, labels: labels, shard: shard)
      } : nil
    let needGradients = agr || measure
    if let variation, perturbWeights, let adversarial {
      return try variedStep(variation, images: images, adversarial: adversarial, labels: labels, agr: agr,
                            needGradients: needGradients)
    }
    let needClean = objective.needsCleanLogits || needGradients || cleanPassInTrainMode
    model.train()
    // Under bf16 autocast the logits come out bf16; the losses are taken in fp32, as PyTorch's autocast does
    // for cross-entropy, softmax and KL divergence (the cast is differentiable: gradients flow through it).
    // Repeated passes (objectives computed on passes of their own): BatchNorm's running statistics then see
    // the clean batch twice, then the adversarial batch twice; the loss and gradients are unchanged.
    let repeatPasses = objective.repeatsForwardPasses
    let (cleanLogits, adversarialLogits) = try Torch.withAutocast(device: device, enabled: autocast) {
      let clean = try (needClean ? try model(images) : nil).map(Self.fullPrecision)
      if repeatPasses, needClean { try Autograd.withNoGrad { _ = try model(images) } }
      let input = try adversarial.map { try objective.adversarialInput(images: images, adversarial: $0) }
      let adversarialLogits = try input.map { try Self.fullPrecision(try model($0)) }
      if repeatPasses, let input { try Autograd.withNoGrad { _ = try model(input) } }
      return (clean, adversarialLogits)
    }
    var loss = try objective.loss(clean: cleanLogits, adversarial: adversarialLogits, labels: labels)
    if let gradientAlignment { loss = try loss + gradientAlignment.penalty(model: model, images: images, labels: labels) }
    // the clean graph is kept: the method loss may run through it too
    let gNat = needGradients
      ? try cleanLogits.map { logits in
        try gradients(of: try Functional.crossEntropy(logits, labels), slot: .clean, rows: labels.shape[0], retainGraph: true)
      }
      : nil
    return try update(loss: loss, cleanGradient: gNat, agr: agr, cleanCorrect: try cleanLogits.map { try Self.correct($0, labels) },
                      adversarialLogits: adversarialLogits, labels: labels, free: freeLeaf.map { ($0, images) })
  }

  /// The method loss's gradient, AGR against `cleanGradient` when there is one (applied when `agr`, else
  /// only measured), the optimizer's update, and the step's outputs. `free`: Free-AT's delta leaf and the clean
  /// batch; the same backward pass gives delta's gradient, and delta takes its step.
  private func update(loss: Tensor, cleanGradient: [Tensor]?, agr: Bool, cleanCorrect: Tensor?,
                      adversarialLogits: Tensor?, labels: Tensor, free: (leaf: Tensor, images: Tensor)? = nil) throws -> Output
  {
    var gAdv: [Tensor]
    if let free, let freeAdversarial {
      // data parallelism is refused with Free-AT (`Trainer.checkSupported`): no reducer here
      var all = try Autograd.gradients(of: loss, wrt: parameters + [free.leaf])
      try freeAdversarial.advance(images: free.images, inputGradient: all.removeLast())
      gAdv = all
    } else {
      gAdv = try gradients(of: loss, slot: .method, rows: labels.shape[0])
    }
    var gNat = cleanGradient
    var loss = try loss.detached().to(.float32)
    var cleanCorrect = cleanCorrect
    var adversarialCorrect = try adversarialLogits.map { try Self.correct($0, labels) }
    if let dataParallel {
      let counts = [cleanCorrect, adversarialCorrect].compactMap { $0 }
      let global = try dataParallel.average(method: gAdv, clean: gNat, buffers: floatBuffers, weighted: [loss],
                                            summed: counts, rows: labels.shape[0], reducer: reducer)
      (gAdv, gNat, loss) = (global.method, global.clean, global.weighted[0])
      var summed = global.summed.makeIterator()
      if cleanCorrect != nil { cleanCorrect = summed.next() }
      if adversarialCorrect != nil { adversarialCorrect = summed.next() }
    }
    var statistics: GradientReconstruction.Statistics?
    var conflicts: Tensor?
    var applied = gAdv
    if let gNat {
      let (reconstructed, stats) = try gradientTransform.transform(method: gAdv, clean: gNat)
      statistics = stats
      if agr {
        conflicts = try (try stats.cosine .<= 0).to(.float32)
        applied = reconstructed
      }
    }
    try optimizer.step(gradients: applied)
    return Output(
      loss: loss, cleanCorrect: cleanCorrect, adversarialCorrect: adversarialCorrect,
      statistics: statistics, conflicts: conflicts, gradientNorm: try Foreach.norms(applied).norm())
  }

  /// The step with a `StepVariation` (AWP). The clean forward pass (and the clean gradient AGR needs) comes
  /// first, at the model's own weights, as in the AGR authors' code; unlike theirs, whose in-place `.data`
  /// perturbation leaves autograd holding the perturbed weights, the clean gradient here is taken before the
  /// weights move, so it is the gradient of the clean loss at the model's weights. Then the variation
  /// prepares (AWP moves the weights by gamma * diff), the method's forward passes run (clean ones again if
  /// its loss reads them), its loss and gradient, AGR, the update, and the variation undoes its change.
  private func variedStep(_ variation: any StepVariation, images: Tensor, adversarial: Tensor,
                          labels: Tensor, agr: Bool, needGradients: Bool) throws -> Output
  {
    let device = images.device
    let autocast = precision == .bf16
    model.train()
    var gNat: [Tensor]?
    var cleanCorrect: Tensor?
    if needGradients || cleanPassInTrainMode || objective.needsCleanLogits {
      let clean = try Torch.withAutocast(device: device, enabled: autocast) { try Self.fullPrecision(try model(images)) }
      cleanCorrect = try Self.correct(clean, labels)
      if needGradients {
        gNat = try gradients(of: try Functional.crossEntropy(clean, labels), slot: .clean, rows: labels.shape[0])
      }
    }
    let undo = try variation.prepareMethodPasses(of: self, images: images, adversarial: adversarial, labels: labels)
    let (cleanLogits, adversarialLogits) = try Torch.withAutocast(device: device, enabled: autocast) {
      let clean = objective.needsCleanLogits ? try Self.fullPrecision(try model(images)) : nil
      let input = try objective.adversarialInput(images: images, adversarial: adversarial)
      return (clean, try Self.fullPrecision(try model(input)))
    }
    let loss = try objective.loss(clean: cleanLogits, adversarial: adversarialLogits, labels: labels)
    let output = try update(loss: loss, cleanGradient: gNat, agr: agr, cleanCorrect: cleanCorrect,
                            adversarialLogits: adversarialLogits, labels: labels)
    try undo?()
    return output
  }

  /// The gradient of `loss`; under data parallelism with buckets, its all-reduce (times `rows`) starts during
  /// the backward pass, in `slot`'s buffers, and `DataParallel.average` collects it.
  private func gradients(of loss: Tensor, slot: GradientSlot, rows: Int, retainGraph: Bool = false) throws -> [Tensor] {
    // the reducer exists only under data parallelism with buckets (`distribute(over:)`)
    guard let reducer else { return try Autograd.gradients(of: loss, wrt: parameters, retainGraph: retainGraph) }
    return try reducer.capturing(slot: slot.rawValue, scale: Double(rows)) {
      try Autograd.gradients(of: loss, wrt: parameters, retainGraph: retainGraph)
    }
  }

  /// BatchNorm's running statistics (the integer batch counters are equal on every rank already).
  private var floatBuffers: [Tensor] {
    model.namedBuffers().map(\.tensor).filter { $0.dtype == .float32 || $0.dtype == .float64 }
  }

  static func fullPrecision(_ logits: Tensor) throws -> Tensor {
    logits.dtype == .float32 ? logits : try logits.to(.float32)
  }

  static func correct(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    try (try logits.detached().argmax(dim: 1) .== labels).sum()
  }
}
