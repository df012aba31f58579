import Foundation
import Torch

/// The checkpoint after each epoch is one unit: `last-state.safetensors` holds the model's weights and
/// buffers together with the optimizer's state (SGD's `momentum.NAME`, AdamW's `adamw.*.NAME`), the
/// epoch count, the records and the best score, and
/// its atomic rename is the commit point. Everything written before it (`last.safetensors` and
/// `best.safetensors`, the user-facing model files, and the epoch's diagnostics lines) is either
/// rewritten identically when an interrupted epoch is trained again or dropped on resume (diagnostics
/// of epochs past the state's), so a run killed at any moment resumes exactly.
extension Trainer {
  static let modelPrefix = "model."

  func saveCheckpoints(after epoch: Int, record: EpochRecord) throws {
    let bestAverage = configuration.bestIsAveraged ? average : nil
    let score = bestAverage == nil
      ? (record.testRobustAccuracy ?? record.testCleanAccuracy)
      : (record.averagedTestRobustAccuracy ?? record.averagedTestCleanAccuracy ?? -1)
    let best = Swift.max(score, bestAccuracy)
    guard let run, writesFiles else {
      bestAccuracy = best
      diagnosticsBuffer.removeAll()
      return
    }
    let done = epoch + 1
    let epochMetadata = ["epoch": String(done)].merging(configuration.normalization?.metadata ?? [:]) { $1 }
      .merging(configuration.perturbation.threatMetadata) { $1 }
    try ModuleCheckpoint.save(model, to: run.lastModel, metadata: epochMetadata,
                              beforeRename: { KillSwitch.reach("model-temp", epoch: done) })
    KillSwitch.reach("model", epoch: done)
    if let average { try ModuleCheckpoint.save(stateDict: average.stateDict, to: run.averagedModel, metadata: epochMetadata) }
    if score > bestAccuracy {
      try ModuleCheckpoint.save(stateDict: bestAverage?.stateDict ?? model.stateDict(), to: run.bestModel,
                                metadata: bestAverage == nil ? epochMetadata : epochMetadata.merging(["weights": "averaged"]) { $1 })
      KillSwitch.reach("best", epoch: done)
    }
    try run.appendDiagnostics(diagnosticsBuffer)
    KillSwitch.reach("diagnostics", epoch: done)

    var state = TrainingState()
    for (name, tensor) in model.stateDict() { try state.setTensor(tensor, forKey: Self.modelPrefix + name) }
    for (key, tensor) in try optimizer.state(parameterNames: names) { try state.setTensor(tensor, forKey: key) }
    try average?.save(into: &state)
    try step.freeAdversarial?.save(into: &state)
    try state.setValue(done, forKey: "epochs_done")
    try state.setValue(records, forKey: "records")
    try state.setValue(best, forKey: "best_accuracy")
    try state.save(to: run.lastState, beforeRename: { KillSwitch.reach("state-temp", epoch: done) })
    KillSwitch.reach("state", epoch: done)
    bestAccuracy = best
    diagnosticsBuffer.removeAll()
    try run.writeMetrics(records)
    KillSwitch.reach("metrics", epoch: done)
  }

  /// Restores model, optimizer and records from `run`'s last checkpoint; returns the epoch to continue
  /// from. Every value read from the state is checked against the configuration, and temporary files
  /// left by an interrupted write are removed.
  public func restore(from run: RunDirectory) throws -> Int {
    if writesFiles { run.removeInterruptedWrites() }
    guard FileManager.default.fileExists(atPath: run.lastState.path) else {
      throw TrainingError.noCheckpoint(run.url.path)
    }
    let state = try TrainingState.load(from: run.lastState, device: device)
    let file = run.lastState.path
    func bad(_ key: String, _ detail: String) -> CheckpointError { .badMetadata(file: file, key: key, detail: detail) }
    let done = try state.value(Int.self, forKey: "epochs_done")
    guard done >= 1, done <= configuration.epochs else {
      throw bad("epochs_done", "\(done) epochs done does not fit a run of \(configuration.epochs) epochs")
    }
    let saved = try state.value([EpochRecord].self, forKey: "records")
    guard saved.map(\.epoch) == Array(1...done) else {
      throw bad("records", "holds epochs \(saved.map(\.epoch)), not 1...\(done)")
    }
    let best = try state.value(Double.self, forKey: "best_accuracy")
    guard best.isFinite, best >= -1, best <= 1 else { throw bad("best_accuracy", "\(best) is not an accuracy") }

    let weights = state.tensors.filter { $0.name.hasPrefix(Self.modelPrefix) }
    if weights.isEmpty {
      // A state written before it held the weights: the model file must be of the same epoch.
      let metadata = try ModuleCheckpoint.load(into: model, from: run.lastModel)
      guard metadata["epoch"] == String(done) else {
        throw TrainingError.badRunDirectory(
          "\(run.lastModel.path) is from epoch \(metadata["epoch"] ?? "?") but \(file) from epoch \(done): "
            + "the run was stopped between the two writes and cannot be resumed exactly")
      }
    } else {
      let stripped = weights.map { (name: String($0.name.dropFirst(Self.modelPrefix.count)), tensor: $0.tensor) }
      try ModuleCheckpoint.load(into: model, from: SafeTensors(tensors: stripped), path: file)
    }
    do {
      try optimizer.restore(parameterNames: names) { state[tensor: $0] }
    } catch let error as TorchError {
      throw CheckpointError.badMetadata(file: file, key: "optimizer", detail: error.message)
    }
    try average?.restore(from: state)
    try step.freeAdversarial?.restore(from: state, file: file)
    records = saved
    bestAccuracy = best
    if writesFiles {
      try run.writeMetrics(records)
      try run.truncateDiagnostics(afterEpoch: done)
    }
    return done
  }
}

/// Test hook: a process whose `AGR_TEST_KILL_AT` is `POINT@N` kills itself (SIGKILL, no clean-up)
/// when the checkpoint of epoch N reaches that point, so that tests can stop a run at every step of
/// the checkpoint write. Points: model-temp, model, best, diagnostics, state-temp, state, metrics; and
/// `step`, after training step N (counted over the run). `POINT@N#R` does it on data-parallel rank R
/// only; `AGR_TEST_KILL_SIGNAL=STOP` stops the process instead (a hung rank).
enum KillSwitch {
  static let variable = "AGR_TEST_KILL_AT"
  static let target = ProcessInfo.processInfo.environment[variable]
  static let rank = ProcessInfo.processInfo.environment["RANK"] ?? "0"

  static func reach(_ point: String, epoch: Int) {
    guard let target, target == "\(point)@\(epoch)" || target == "\(point)@\(epoch)#\(rank)" else { return }
    kill(getpid(), ProcessInfo.processInfo.environment["AGR_TEST_KILL_SIGNAL"] == "STOP" ? SIGSTOP : SIGKILL)
  }

  /// The `step` point, as a trainer hook: installed only in a process given `AGR_TEST_KILL_AT`.
  final class StepHook: TrainingHook {
    func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws {
      KillSwitch.reach("step", epoch: iteration + 1)
    }
  }
}
