import Foundation
import Torch

/// Numeric precision of training.
public enum Precision: String, Codable, CaseIterable, Sendable {
  case fp32
  /// bf16 autocast for the forward passes (matmuls and convolutions), fp32 weights and updates.
  case bf16

  /// What the precision is, for help texts.
  public var summary: String { self == .fp32 ? "float32" : "bfloat16 autocast" }
}

/// A training augmentation, run on the batch on the training device.
public enum Augmentation: String, Codable, CaseIterable, Sendable {
  /// Random 32x32 window of the image zero-padded by 4 pixels.
  case crop
  /// Horizontal mirror with probability 1/2.
  case flip
  /// One rectangle filled with one grey value (`Cutout`, torchtoolbox's defaults), after crop and flip.
  case cutout

  public var summary: String {
    switch self {
    case .crop: return "random crop, 4-pixel padding"
    case .flip: return "horizontal flip"
    case .cutout: return "torchtoolbox's Cutout"
    }
  }
}

/// Everything that defines a training run; written to `config.json` in the run directory.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
  public var dataset: String = "fashion-mnist"
  public var dataDirectory: String? = nil
  /// Use only the first N training images (nil: all).
  public var trainSubset: Int? = nil
  /// Evaluate on the first N test images each epoch (nil: all).
  public var testSubset: Int? = nil
  /// Extra labelled images mixed into every training batch (`ExtraImages`: an uncompressed `.npz` holding `image`
  /// and `label`, or a folder holding `image.npy` and `label.npy`; absent: none), the share of each batch drawn
  /// from them (absent: 0.7, DM-Improves-AT's `unsup_fraction`) and the samples in an epoch (absent: the training
  /// set's size), as `MixedBatchLoader` mixes them.
  public var extraData: String? = nil
  public var extraFraction: Double? = nil
  public var epochSize: Int? = nil
  /// Threads decoding a streamed dataset's JPEGs (`StreamingBatchLoader`; absent: one per core).
  public var decodeThreads: Int? = nil
  /// The side of a streamed dataset's model inputs (absent: 224); the evaluation resizes the shorter side to
  /// 256/224 of it first, as `Resize(256)` + `CenterCrop(224)`.
  public var imageSize: Int? = nil

  /// The share of each batch drawn from `extraData`.
  public var extraShare: Double { extraFraction ?? Self.defaultExtraFraction }
  /// DM-Improves-AT's `unsup_fraction`.
  public static let defaultExtraFraction = 0.7
  public var model: ModelArchitecture = .smallCNN
  /// The dropout probability of SmallCNN's classifier (absent: 0.5, as TRADES defines it; the other models
  /// have no dropout).
  public var dropout: Double? = nil
  /// A TorchScript module (`torch.jit.script(model).save`) trained instead of `model`, and the checksum of the
  /// file when the run started (`ModelFileChecksum`), which resume, eval and landscape check.
  public var modelFile: String? = nil
  public var modelFileChecksum: String? = nil
  /// Per-channel input normalisation inside the model (nil: none); recorded in checkpoints' metadata.
  public var normalization: InputNormalization? = nil
  /// MART as the AGR authors' `mart_loss` runs it: the clean and adversarial forward passes again, in train
  /// mode, so BatchNorm's running statistics are updated four times per step instead of two (the gradients
  /// are the same). Absent or false: two passes, as the MART paper's algorithm and the other methods.
  public var martRepeatedPasses: Bool? = nil
  /// AWP on top of the method (Wu et al.; absent or false: none), with its perturbation size gamma, its proxy's
  /// learning rate and the epochs trained without it first.
  public var awp: Bool? = nil
  public var awpGamma: Double? = nil
  public var awpProxyLearningRate: Double? = nil
  public var awpWarmup: Int? = nil
  /// AVmixup with the paper's soft labels (absent or false: hard labels, as the AGR authors' code).
  public var avmixupSoftLabels: Bool? = nil
  public var method: TrainingMethod = .at
  /// AGR on top of the method, from epoch `agrStartEpoch` on (1-based, as the paper counts: 155 of 200).
  public var agr: Bool = true
  public var agrStartEpoch: Int = 1
  public var agrClip: Double = 0.1
  /// Run the clean forward pass in train mode for the baselines too (the AGR authors' code does:
  /// BatchNorm statistics then see clean and adversarial batches, as with AGR).
  public var cleanPassInTrainMode: Bool = true
  public var beta: Double = 6
  /// GradAlign's lambda (`GradientAlignment`: lambda (1 - cos) of the input gradients at the clean point and a
  /// uniformly perturbed one, added to the method loss); absent: none.
  public var gradAlign: Double? = nil
  /// Label smoothing of the training loss's cross-entropy (torch's `CrossEntropyLoss(label_smoothing=S)`): the
  /// adversarial CE of AT, the clean CE of standard training and of TRADES (not its KL); absent: 0. Not the
  /// attack's loss, nor the clean CE whose gradient AGR compares against.
  public var labelSmoothing: Double? = nil
  public var epochs: Int = 10
  public var batchSize: Int = 128
  public var learningRate: Double = 0.1
  public var schedule: LearningRateSchedule = .constant(0.1)
  public var momentum: Double = 0.9
  public var weightDecay: Double = 5e-4
  public var nesterov: Bool = false
  /// The optimizer (absent: SGD, as every run before it could name one).
  public var optimizer: OptimizerKind? = nil
  /// AdamW's betas and epsilon (absent: PyTorch's 0.9, 0.999 and 1e-8).
  public var adamBeta1: Double? = nil
  public var adamBeta2: Double? = nil
  public var adamEpsilon: Double? = nil
  /// Which parameters weight decay applies to (absent: all of them).
  public var weightDecayScope: WeightDecayScope? = nil

  /// The dataset as its typed value (nil for a name no format has; `validate` refuses those).
  public var datasetFormat: DatasetFormat? { try? DatasetFormat.named(dataset) }

  /// The optimizer training makes.
  public var optimizerKind: OptimizerKind { optimizer ?? .sgd }
  /// AdamW's betas, defaults filled in.
  public var adamBetas: (Double, Double) { (adamBeta1 ?? AdamW.defaultBetas.0, adamBeta2 ?? AdamW.defaultBetas.1) }
  public var perturbation = TrainingPerturbation()
  /// PGD steps of the per-epoch robust evaluation (PGD-20 in the papers).
  public var evalSteps: Int = 20
  /// The step size of the per-epoch PGD (absent: the training attack's, as every run before it; the paper
  /// presets give 2/255, its PGD-20 at 8/255).
  public var evalStepSize: Double? = nil

  /// Catastrophic-overfitting check (`OverfitCheck`): PGD steps on a held training batch after every epoch
  /// (absent or 0: no check, unless `stopOnOverfit`, which checks with Wong et al.'s 5), the absolute drop
  /// in its robust accuracy that flags an epoch (absent: 0.2) and what the drop is measured from (absent:
  /// the previous epoch's check). `stopOnOverfit`: stop at the first flagged epoch, keeping the one before.
  public var overfitCheckSteps: Int? = nil
  public var overfitDrop: Double? = nil
  public var overfitReference: OverfitReference? = nil
  /// The gap rule (absent: off): the held batch is also attacked with the training attack, and an epoch whose
  /// training-attack accuracy exceeds the PGD accuracy by more than this is flagged too (catastrophic overfitting
  /// that sets in before any robustness was gained shows no drop, only this gap).
  public var overfitGap: Double? = nil
  public var stopOnOverfit: Bool? = nil

  /// The held-batch PGD's steps, 0 when the run does not check.
  public var overfitSteps: Int {
    if let steps = overfitCheckSteps, steps > 0 { return steps }
    return stopOnOverfit == true ? OverfitCheck.defaultSteps : 0
  }

  /// The per-epoch PGD's step size, `evalStepSize` or the training attack's.
  public var evaluationStepSize: Double { evalStepSize ?? perturbation.stepSize }
  /// Random crop and flip (older configurations' only augmentation switch; `augmentations` overrides it).
  public var augment: Bool = false
  /// The training augmentations in the order they run (absent: crop and flip when `augment`, else none).
  public var augmentations: [Augmentation]? = nil

  /// Exponential moving average of the weights with this decay per step (e.g. 0.995; nil: none), evaluated
  /// each epoch beside the model itself and saved as `averaged.safetensors`.
  public var weightAveraging: Double? = nil
  /// Which weights `best.safetensors` keeps (absent: the averaged ones when averaging, else the model's).
  public var bestBy: BestWeights? = nil

  /// Which weights the best checkpoint is chosen from.
  public enum BestWeights: String, Codable, CaseIterable, Sendable {
    case model, averaged
    public var summary: String { self == .model ? "the model's own" : "the weight average's" }
  }

  /// Whether the best checkpoint follows the weight average.
  public var bestIsAveraged: Bool { weightAveraging != nil && bestBy != .model }

  /// The augmentations training runs.
  public var activeAugmentations: [Augmentation] { augmentations ?? (augment ? [.crop, .flip] : []) }
  public var seed: UInt64 = 0
  public var device: Device = .cpu
  public var precision: Precision = .fp32
  /// channels-last memory format for the model and batches; absent: on for CUDA, off on the CPU
  /// (`usesChannelsLast`): cuDNN's kernels on recent GPUs are NHWC, and a contiguous model pays layout
  /// conversions around each convolution (docs/performance.md has the measurement).
  public var channelsLast: Bool? = nil

  /// Whether training runs channels-last: `channelsLast`, else on for CUDA devices.
  public var usesChannelsLast: Bool {
    channelsLast ?? device.isCUDA
  }
  /// Data-parallel training: BatchNorm normalises with the statistics of the global batch (all ranks'
  /// shards, `torch.nn.SyncBatchNorm`); absent or false: each rank's own shard's, as PyTorch's DDP, with
  /// the running statistics averaged over the ranks after every step. No effect in a single process.
  public var synchronizedBatchNorm: Bool? = nil
  /// Replay training steps from CUDA graphs (`GraphedTrainingStep`); optional so that older run
  /// configurations still load (absent: off).
  public var cudaGraphs: Bool? = nil
  /// How AGR's arithmetic runs (the same numbers either way); absent: the device's preferred path
  /// (`ReconstructionPath.preferred(on:)`: flat on a GPU, per-tensor on the CPU).
  public var agrPath: ReconstructionPath? = nil

  /// The AGR path training takes: `agrPath`, else the device's preferred one.
  public var reconstructionPath: ReconstructionPath {
    agrPath ?? .preferred(on: device)
  }
  /// Record per-tensor gradient cosines and norms every N iterations (0: never).
  public var diagnosticsEvery: Int = 20
  /// Read step metrics back from the device every N steps (host synchronisation points).
  public var logEvery: Int = 10

  public init() {}

  /// Checks every setting; a `ConfigurationError` names the first bad one by its key.
  public func validate() throws {
    func bad(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(key: key, message) }
    func finite(_ key: String, _ value: Double) throws {
      guard value.isFinite else { throw bad(key, "must be a finite number, got \(value)") }
    }
    do { _ = try DatasetFormat.named(dataset) } catch { throw bad("dataset", "\(error)") }
    guard epochs > 0 else { throw bad("epochs", "must be positive, got \(epochs)") }
    guard batchSize > 0 else { throw bad("batch_size", "must be positive, got \(batchSize)") }
    try finite("learning_rate", learningRate)
    guard learningRate >= 0 else { throw bad("learning_rate", "must be >= 0, got \(learningRate)") }
    try finite("momentum", momentum)
    guard momentum >= 0, momentum <= 1 else { throw bad("momentum", "must lie in [0, 1], got \(momentum)") }
    try finite("weight_decay", weightDecay)
    guard weightDecay >= 0 else { throw bad("weight_decay", "must be >= 0, got \(weightDecay)") }
    if nesterov {
      guard optimizerKind == .sgd else { throw bad("nesterov", "is SGD's momentum; optimizer is \(optimizerKind.rawValue)") }
      guard momentum > 0 else { throw bad("nesterov", "needs a momentum above 0, got \(momentum)") }
    }
    for (key, value) in [("adam_beta1", adamBeta1), ("adam_beta2", adamBeta2), ("adam_epsilon", adamEpsilon)] {
      guard let value else { continue }
      guard optimizerKind == .adamw else { throw bad(key, "is AdamW's; optimizer is \(optimizerKind.rawValue)") }
      try finite(key, value)
      if key == "adam_epsilon" {
        guard value >= 0 else { throw bad(key, "must be >= 0, got \(value)") }
      } else {
        guard value >= 0, value < 1 else { throw bad(key, "must lie in [0, 1), got \(value)") }
      }
    }
    try finite("agr_clip", agrClip)
    guard agrClip > 0 else { throw bad("agr_clip", "must be positive, got \(agrClip)") }
    guard agrStartEpoch >= 1 else { throw bad("agr_start_epoch", "is 1-based and must be >= 1, got \(agrStartEpoch)") }
    if let s = labelSmoothing {
      guard s.isFinite, s >= 0, s < 1 else { throw bad("label_smoothing", "must lie in [0, 1), got \(s)") }
      guard [.standard, .at, .trades].contains(method) else {
        throw bad("label_smoothing", "applies to the cross-entropy of standard, at and trades; \(method.rawValue)'s loss has its own label weighting")
      }
    }
    if let lambda = gradAlign {
      guard lambda.isFinite, lambda > 0 else { throw bad("grad_align", "lambda must be a positive finite number, got \(lambda)") }
      guard method.isAdversarial else { throw bad("grad_align", "regularises adversarial training; the method is \(method.rawValue)") }
      guard awp != true else { throw bad("grad_align", "is not combined with AWP") }
      guard cudaGraphs != true else { throw bad("grad_align", "its double backpropagation is not recorded in CUDA graphs") }
    }
    try finite("beta", beta)
    guard beta >= 0 else { throw bad("beta", "must be >= 0, got \(beta)") }
    try finite("perturbation.epsilon", perturbation.epsilon)
    try Self.checkRadius(perturbation.epsilon, norm: perturbation.threatNorm, dataset: datasetFormat,
                         key: "perturbation.epsilon")
    if perturbation.threatNorm != .lInf {
      let norm = perturbation.threatNorm.flagName
      if perturbation.kind != .pgd {
        throw bad("perturbation.attack", "\(perturbation.kind.rawValue) is an L-inf attack; with norm \(norm) train with pgd")
      }
      if perturbation.iterates == .authors { throw bad("perturbation.iterates", "'authors' is the AGR authors' L-inf PGD; the norm is \(norm)") }
    }
    try finite("perturbation.step_size", perturbation.stepSize)
    guard perturbation.stepSize >= 0 else { throw bad("perturbation.step_size", "must be >= 0, got \(perturbation.stepSize)") }
    guard perturbation.steps >= 0 else { throw bad("perturbation.steps", "must be >= 0") }
    if perturbation.kind.isSingleStep {
      let attack = perturbation.kind.rawValue
      if perturbation.iterates == .authors { throw bad("perturbation.iterates", "'authors' is PGD's; the training attack is \(attack)") }
      if let k = perturbation.noise {
        guard k.isFinite, k >= 0 else { throw bad("perturbation.noise", "the noise radius in units of eps must be a finite number >= 0, got \(k)") }
      }
      if let m = perturbation.stepMultiplier {
        guard m.isFinite, m > 0 else {
          throw bad("perturbation.step_multiplier", "the step in units of eps must be a positive finite number, got \(m)")
        }
      }
    } else if perturbation.kind == .free {
      try checkFreeAdversarialTraining()
    } else {
      if perturbation.noise != nil { throw bad("perturbation.noise", "is a single-step attack's (fgsm-rs, n-fgsm); the training attack is pgd") }
      if perturbation.stepMultiplier != nil {
        throw bad("perturbation.step_multiplier", "is a single-step attack's (fgsm-rs, n-fgsm, free); PGD's step is perturbation.step_size")
      }
    }
    if perturbation.kind != .free {
      if perturbation.replays != nil { throw bad("perturbation.replays", "is Free-AT's m; the training attack is \(perturbation.kind.rawValue)") }
      if perturbation.carry != nil { throw bad("perturbation.carry", "is Free-AT's; the training attack is \(perturbation.kind.rawValue)") }
    }
    guard evalSteps >= 0 else { throw bad("eval_steps", "must be >= 0") }
    if let size = evalStepSize {
      try finite("eval_step_size", size)
      guard size >= 0 else { throw bad("eval_step_size", "must be >= 0, got \(size)") }
    }
    if let steps = overfitCheckSteps, steps < 0 { throw bad("overfit_check_steps", "must be >= 0, got \(steps)") }
    if let drop = overfitDrop {
      guard drop.isFinite, drop > 0, drop < 1 else { throw bad("overfit_drop", "an accuracy drop must lie in (0, 1), got \(drop)") }
    }
    if overfitSteps > 0 && !method.isAdversarial {
      throw bad(stopOnOverfit == true ? "stop_on_overfit" : "overfit_check_steps",
                "checks robust accuracy: use it with an adversarial method, not \(method.rawValue)")
    }
    if overfitSteps == 0 && (overfitDrop != nil || overfitReference != nil || overfitGap != nil) {
      let key = overfitDrop != nil ? "overfit_drop" : overfitReference != nil ? "overfit_reference" : "overfit_gap"
      throw bad(key, "needs the check: give overfit_check_steps or stop_on_overfit")
    }
    if let gap = overfitGap {
      guard gap.isFinite, gap > 0, gap < 1 else { throw bad("overfit_gap", "an accuracy gap must lie in (0, 1), got \(gap)") }
      guard perturbation.kind != .free else {
        throw bad("overfit_gap", "compares the training attack with PGD on the held batch; Free-AT has no attack of its own to run")
      }
    }
    guard logEvery > 0 else { throw bad("log_every", "must be positive") }
    guard diagnosticsEvery >= 0 else { throw bad("diagnostics_every", "must be >= 0") }
    if let modelFile, !FileManager.default.fileExists(atPath: modelFile) {
      throw bad("model_file", "\(modelFile): no such file")
    }
    if let n = trainSubset, n <= 0 { throw bad("train_subset", "must be positive") }
    if let n = testSubset, n <= 0 { throw bad("test_subset", "must be positive") }
    if let share = extraFraction {
      guard extraData != nil else { throw bad("extra_fraction", "is the share of each batch drawn from extra_data; give extra_data") }
      guard share.isFinite, share >= 0, share <= 1 else { throw bad("extra_fraction", "must lie in [0, 1], got \(share)") }
    }
    if let n = epochSize {
      guard extraData != nil else {
        throw bad("epoch_size", "sets the samples of an epoch mixed with extra_data; without it an epoch is one pass over the training set")
      }
      guard (1...MixedBatchLoader.largestEpochSize).contains(n) else {
        throw bad("epoch_size", "must lie in 1...\(MixedBatchLoader.largestEpochSize) (an epoch's draws are held in memory, "
          + "8 bytes a sample), got \(n)")
      }
    }
    if let n = imageSize {
      guard (8...4096).contains(n) else { throw bad("image_size", "must lie in 8...4096, got \(n)") }
    }
    if let n = decodeThreads {
      guard (1...StreamingBatchLoader.maximumThreads).contains(n) else {
        throw bad("decode_threads", "must lie in 1...\(StreamingBatchLoader.maximumThreads), got \(n)")
      }
    }
    if let p = dropout {
      guard modelFile == nil else { throw bad("dropout", "a model file's dropout is its own (\(modelFile!))") }
      guard model == .smallCNN else { throw bad("dropout", "only SmallCNN has dropout, not \(model.rawValue)") }
      guard p.isFinite, p >= 0, p < 1 else { throw bad("dropout", "the probability must lie in [0, 1), got \(p)") }
    }
    if synchronizedBatchNorm == true, let modelFile {
      throw bad("synchronized_batch_norm", "works on agr's own BatchNorm layers; \(modelFile)'s run inside TorchScript, "
        + "each rank on its own shard (train without it: the running statistics are still averaged across ranks)")
    }
    if awp == true {
      guard method.isAdversarial else { throw bad("awp", "perturbs weights against adversarial examples: use it with an adversarial method, not \(method.rawValue)") }
      guard cudaGraphs != true else { throw bad("cuda_graphs", "does not record AWP's steps yet; train without CUDA graphs") }
    }
    if let gamma = awpGamma { guard gamma.isFinite, gamma >= 0 else { throw bad("awp_gamma", "must be a finite number >= 0, got \(gamma)") } }
    if let rate = awpProxyLearningRate {
      guard rate.isFinite, rate > 0 else { throw bad("awp_proxy_learning_rate", "must be a positive finite number, got \(rate)") }
    }
    if let warmup = awpWarmup { guard warmup >= 0 else { throw bad("awp_warmup", "must be >= 0, got \(warmup)") } }
    if let decay = weightAveraging {
      guard decay.isFinite, decay > 0, decay < 1 else { throw bad("weight_averaging", "the decay must lie in (0, 1), got \(decay)") }
    }
    if bestBy == .averaged && weightAveraging == nil {
      throw bad("best_by", "'averaged' needs weight averaging (weight_averaging)")
    }
    if cudaGraphs == true {
      guard optimizerKind == .sgd else {
        throw bad("cuda_graphs", "records SGD's steps only; \(optimizerKind.rawValue)'s bias corrections change every step")
      }
      guard device.isCUDA else { throw bad("cuda_graphs", "needs a CUDA device, got device \(device)") }
      guard schedule.isStepwiseConstant else {
        throw bad("cuda_graphs", "a graph freezes the learning rate; use a multistep or constant schedule, not \(schedule)")
      }
    }
  }

  /// Free-AT's settings, and what it is not combined with.
  private func checkFreeAdversarialTraining() throws {
    func bad(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(key: key, message) }
    switch method {
    case .at, .mart: break
    case .trades:
      throw bad("perturbation.attack", "free climbs the method loss from delta = 0, where TRADES' KL term has a zero gradient, "
        + "so delta would never move: train TRADES with pgd, fgsm-rs or n-fgsm")
    default:
      throw bad("perturbation.attack", "free trains at (Shafahi et al.) or mart, not \(method.rawValue)")
    }
    if perturbation.noise != nil {
      throw bad("perturbation.noise", "Free-AT has no random start: delta starts from zero (every batch with perturbation.carry=false)")
    }
    if perturbation.iterates == .authors { throw bad("perturbation.iterates", "'authors' is PGD's; the training attack is free") }
    if let m = perturbation.stepMultiplier {
      guard m.isFinite, m > 0 else {
        throw bad("perturbation.step_multiplier", "the step in units of eps must be a positive finite number, got \(m)")
      }
    }
    if let m = perturbation.replays {
      guard (1...1000).contains(m) else { throw bad("perturbation.replays", "Free-AT's m must lie in 1...1000, got \(m)") }
    }
    if awp == true { throw bad("awp", "is not combined with Free-AT (perturbation.attack free)") }
    if cudaGraphs == true { throw bad("cuda_graphs", "does not record Free-AT's replays; train without CUDA graphs") }
  }

  /// Refuses a radius outside what `norm` accepts: L-inf [0, 1] (the width of the pixel range); L2 and L1 are
  /// not bounded by 1 but by the diameter of the image cube, sqrt(d) and d for d = C·H·W values (any finite
  /// radius >= 0 when the dataset's image size is not fixed).
  public static func checkRadius(_ epsilon: Double, norm: Norm, dataset: DatasetFormat?, key: String) throws {
    let features = dataset?.imageShape.map { $0.reduce(1, *) }
    let limit = features.map { norm.diameter(features: $0) } ?? (norm == .lInf ? 1 : .infinity)
    guard epsilon.isFinite, epsilon >= 0, epsilon <= limit else {
      let range: String
      switch (norm, features) {
      case (.lInf, _): range = "[0, 1] for linf (the width of the pixel range)"
      case (_, let d?):
        let diameter = norm == .l2 ? "sqrt(\(d)) = \(String(format: "%.2f", limit))" : "\(d)"
        range = "[0, \(String(format: "%g", limit))] for \(norm.flagName) on \(dataset!.rawValue) images (not bounded by 1: "
          + "up to the \(norm) diameter of [0, 1]^\(d), \(diameter))"
      case (_, nil): range = "[0, ∞) for \(norm.flagName)"
      }
      throw ConfigurationError(key: key, "must lie in \(range), got \(epsilon)")
    }
  }

  /// A fresh model of the configured family, or the model file's module, for `data` (its normalisation and
  /// dropout).
  public func makeModel(for data: LabeledImages) throws -> any Classifier {
    try modelSource.make(for: data, normalization: normalization, dropout: dropout)
  }

  /// Whether AGR reconstructs the gradient in `epoch` (0-based index; AGR starts at 1-based `agrStartEpoch`).
  public func agrActive(inEpoch epoch: Int) -> Bool { agr && method.isAdversarial && epoch + 1 >= agrStartEpoch }
}
