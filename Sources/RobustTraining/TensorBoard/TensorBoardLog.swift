import Foundation

/// Writes what a run reports to TensorBoard event files in `<run>/tensorboard` (`tensorboard --logdir runs`
/// shows every run of a folder, live): per epoch its metrics (`epoch/*`, the GOP rate overall and per layer
/// kind), per log window the training loss and accuracies (`train/*`), and per gradient sample the cosine of
/// each parameter tensor (`cosine/<tensor>`) with its distribution over the tensors of each kind
/// (`cosine_histogram/<kind>`), as one of the run's `Trainer.hooks`. Steps are training iterations throughout, so that a resumed run's first
/// event can tell TensorBoard to drop what the interrupted session wrote past the last checkpoint.
public final class TensorBoardLog {
  let file: EventFile
  private var batchesPerEpoch: Int?
  private var started = false
  /// Where errors go once (a full disk must not stop training: TensorBoard is a view, not a record).
  private var failed = false

  public init(run: RunDirectory) throws {
    file = try EventFile(folder: run.url.appendingPathComponent("tensorboard"))
  }

  public var folder: URL { file.url.deletingLastPathComponent() }

  private func write(step: Int, _ values: [(tag: String, value: TensorBoardEvent.Value)]) {
    guard !failed, !values.isEmpty else { return }
    do {
      if !started {
        // A session that starts mid-run (a resume) supersedes what an interrupted one wrote from here on.
        try file.write(TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(step), sessionStart: true))
        started = true
      }
      try file.write(TensorBoardEvent(wallTime: Date().timeIntervalSince1970, step: Int64(step), values: values))
    } catch {
      failed = true
      FileHandle.standardError.write(Data("warning: TensorBoard log \(file.url.path): \(describe(error)); no more events written\n".utf8))
    }
  }

  private static func scalars(_ pairs: [(String, Double?)]) -> [(tag: String, value: TensorBoardEvent.Value)] {
    pairs.compactMap { tag, value in value.map { (tag, .scalar(Float($0))) } }
  }

  public func training(progress p: BatchProgress) {
    batchesPerEpoch = p.batches
    write(step: (p.epoch - 1) * p.batches + p.batch, Self.scalars([
      ("train/loss", p.loss), ("train/clean_accuracy", p.cleanAccuracy), ("train/adversarial_accuracy", p.adversarialAccuracy),
      ("train/images_per_second", p.imagesPerSecond), ("train/learning_rate", p.learningRate),
      ("train/agr_active", p.agrActive ? 1 : 0),
    ]))
  }

  public func training(finished r: EpochRecord) {
    var pairs: [(String, Double?)] = [
      ("epoch/train_loss", r.trainLoss), ("epoch/train_clean_accuracy", r.trainCleanAccuracy),
      ("epoch/train_adversarial_accuracy", r.trainAdversarialAccuracy), ("epoch/test_clean_loss", r.testCleanLoss),
      ("epoch/test_clean_accuracy", r.testCleanAccuracy), ("epoch/test_robust_loss", r.testRobustLoss),
      ("epoch/test_robust_accuracy", r.testRobustAccuracy), ("epoch/learning_rate", r.learningRate),
      ("epoch/gop_rate", r.gopRate), ("epoch/averaged_test_clean_accuracy", r.averagedTestCleanAccuracy),
      ("epoch/averaged_test_robust_accuracy", r.averagedTestRobustAccuracy), ("epoch/seconds", r.seconds),
      ("epoch/images_per_second", r.imagesPerSecond), ("epoch/epoch", Double(r.epoch)),
      ("epoch/overfit_check_accuracy", r.overfitCheckAccuracy),
      ("epoch/overfit_check_training_attack_accuracy", r.overfitCheckTrainingAttackAccuracy),
      ("epoch/peak_memory_bytes", r.peakMemoryBytes),
      ("epoch/catastrophic_overfitting", r.catastrophicOverfitting.map { $0 ? 1 : 0 }),
    ]
    pairs += (r.gopRateByKind ?? [:]).sorted { $0.key < $1.key }.map { ("epoch/gop_rate/\($0.key)", $0.value) }
    write(step: r.epoch * (batchesPerEpoch ?? 1), Self.scalars(pairs))
    if !failed { try? file.flush() }
  }

  /// One gradient sample's per-tensor cosines (and their distribution per layer kind) at `step`.
  func logCosines(_ cosines: [Double], names: [String], kinds: [LayerKind], step: Int) {
    var values: [(tag: String, value: TensorBoardEvent.Value)] = zip(names, cosines).map { ("cosine/\($0)", .scalar(Float($1))) }
    let limits = stride(from: -0.95, through: 1.0001, by: 0.05).map { min($0, 1) }
    for kind in LayerKind.allCases {
      let ofKind = zip(kinds, cosines).filter { $0.0 == kind && $0.1.isFinite }.map(\.1)
      if !ofKind.isEmpty { values.append(("cosine_histogram/\(kind.rawValue)", .histogram(.init(ofKind, limits: limits)))) }
    }
    write(step: step, values)
  }
}

/// The cosines come from the gradient samples the trainer takes (`diagnostics_every`), as `diagnostics.jsonl` does.
extension TensorBoardLog: TrainingHook {
  public func trainerReported(_ trainer: Trainer, progress: BatchProgress) throws { training(progress: progress) }
  public func trainerFinishedEpoch(_ trainer: Trainer, record: EpochRecord) throws { training(finished: record) }

  public func trainerTookSample(_ trainer: Trainer, sample: GradientSample) throws {
    logCosines(sample.cosine, names: trainer.names, kinds: trainer.kinds, step: sample.iteration + 1)
  }
}

extension TensorBoardLog {
  /// The run's log, or nil with a warning when its file cannot be made (training goes on without it).
  public static func opened(for run: RunDirectory) -> TensorBoardLog? {
    do { return try TensorBoardLog(run: run) } catch {
      FileHandle.standardError.write(Data("warning: no TensorBoard log: \(fileErrorText(error))\n".utf8))
      return nil
    }
  }
}
