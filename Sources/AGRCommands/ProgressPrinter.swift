import Foundation
import RobustTraining

/// Prints what a training run reports, as one of its hooks: a progress line per log window (rewritten in
/// place on a terminal) and a table row per epoch.
final class ProgressPrinter: TrainingHook {
  private let interactive = isatty(fileno(stdout)) != 0
  private var lastPrint = Date.distantPast

  func describe(_ c: TrainingConfiguration, trainCount: Int, testCount: Int, classCount: Int, readSeconds: Double,
                model: any Classifier, run: RunDirectory)
  {
    let agr = c.agr && c.method.isAdversarial
      ? " + AGR from epoch \(c.agrStartEpoch) (C = \(c.agrClip), \(c.reconstructionPath.rawValue) arithmetic)" : ""
    print("run:      \(run.url.path)")
    print("data:     \(c.dataset): \(c.trainSubset.map { min($0, trainCount) } ?? trainCount) train / "
      + "\(c.testSubset.map { min($0, testCount) } ?? testCount) test images, \(classCount) classes"
      + (DatasetFormat(rawValue: c.dataset)?.isStreamed == true
        ? ", decoded as read (\(c.decodeThreads ?? StreamingBatchLoader.defaultThreads) threads)" : "")
      + String(format: " (read in %.1f s)", readSeconds))
    let normalization = c.normalization.map { n in
      InputNormalization.named.first { $0.value == n }.map { ", \($0.key) normalisation" } ?? ", normalisation \(n.mean)/\(n.std)"
    } ?? ""
    print("model:    \(c.modelFile.map { "\($0) (TorchScript)" } ?? c.model.rawValue), \(model.parameterCount) parameters in \(model.parameters.count) tensors\(normalization)")
    let awp = c.awp == true
      ? " + AWP (gamma \(c.awpGamma ?? AdversarialWeightPerturbation.defaultGamma), "
        + "proxy lr \(c.awpProxyLearningRate ?? AdversarialWeightPerturbation.defaultProxyLearningRate)"
        + ((c.awpWarmup ?? 0) > 0 ? ", from epoch \((c.awpWarmup ?? 0) + 1)" : "") + ")" : ""
    print("method:   \(c.method.rawValue)\(awp)\(agr)")
    if c.method.isAdversarial {
      let p = c.perturbation
      let training = p.kind == .free
        ? String(format: "%@ eps %.4f step %g eps, delta %@", p.label, p.epsilon, p.stepInEpsilons,
                 p.carry == false ? "from zero every batch" : "carried across batches")
        : p.kind.isSingleStep
        ? String(format: "%@ eps %.4f noise %g eps step %g eps (%@%@)", p.label, p.epsilon, p.noiseMultiplier, p.stepInEpsilons,
                 p.loss.rawValue, p.attackInTrainMode == true ? ", in train mode" : "")
        : String(format: "%@ eps %.4f step %.4f (%@%@%@)", p.label, p.epsilon, p.stepSize,
                 p.loss.rawValue, p.iterates == .authors ? ", the authors' unclipped iterates" : "",
                 p.attackInTrainMode == true ? ", in train mode" : "")
      print("attack:   \(training), evaluation \(PGD.label(steps: c.evalSteps, stepSize: c.evaluationStepSize, norm: p.threatNorm))"
        + (c.method == .mart && c.martRepeatedPasses == true ? "; MART's passes repeated as the authors' code" : ""))
    }
    print("optim:    \(c.optimizerKind.describe(c)), lr \(c.schedule), batch \(c.batchSize), "
      + "\(c.epochs) epochs" + (c.weightAveraging.map { ", weight average decay \($0)" } ?? "")
      + (c.activeAugmentations.isEmpty ? "" : ", augmentation \(c.activeAugmentations.map(\.rawValue).joined(separator: "+"))"))
    print("device:   \(c.device), \(c.precision.rawValue)\(c.usesChannelsLast ? ", channels-last" : ""), seed \(c.seed)")
  }

  /// The extra images mixed into training (`--extra-data`) and how.
  func describeExtra(_ extra: ExtraImages, trainCount: Int, configuration c: TrainingConfiguration) {
    let perBatch = Int(Double(c.batchSize) * c.extraShare)
    let epochSize = c.epochSize ?? trainCount
    print("extra:    \(extra.path): \(extra.count) images, \(perBatch) of each batch of \(c.batchSize) "
      + "(share \(c.extraShare)), epochs of \(epochSize) samples (\((epochSize + c.batchSize - 1) / c.batchSize) batches)")
  }

  func trainerReported(_ trainer: Trainer, progress p: BatchProgress) {
    let now = Date()
    let done = p.batch == p.batches
    guard interactive || done || now.timeIntervalSince(lastPrint) >= 10 else { return }
    lastPrint = now
    let line = String(
      format: "epoch %d/%d  batch %d/%d  loss %.4f  clean %@  adv %@  %.0f img/s  lr %.4g%@  ETA %@", p.epoch, p.epochs,
      p.batch, p.batches, p.loss, percent(p.cleanAccuracy), percent(p.adversarialAccuracy), p.imagesPerSecond,
      p.learningRate, p.agrActive ? "  AGR" : "", formatDuration(p.etaSeconds))
    if interactive {
      print("\r\u{1B}[2K" + line, terminator: done ? "\n" : "")
      fflush(stdout)
    } else {
      print(line)
    }
  }

  func trainerFinishedEpoch(_ trainer: Trainer, record r: EpochRecord) {
    let line = Self.epochLine(r)
    print("== " + line)
    // a grid that started this run shows the line (its status file, not this output)
    GridChildStatus.update { $0.epochLines.append(line) }
  }

  /// An epoch's summary: "epoch 3  train loss ...  test clean ...  test PGD ...".
  static func epochLine(_ r: EpochRecord) -> String {
    var parts = [
      "epoch \(r.epoch)", "train loss \(String(format: "%.4f", r.trainLoss))",
      "train clean \(percent(r.trainCleanAccuracy))", "train adv \(percent(r.trainAdversarialAccuracy))",
      "test clean \(percent(r.testCleanAccuracy))",
    ]
    if let robust = r.testRobustAccuracy { parts.append("test PGD \(percent(robust))") }
    if let clean = r.averagedTestCleanAccuracy {
      parts.append("averaged: clean \(percent(clean))" + (r.averagedTestRobustAccuracy.map { " PGD \(percent($0))" } ?? ""))
    }
    if let gop = r.gopRate { parts.append("GOP rate \(percent(gop))") }
    if let held = r.overfitCheckAccuracy {
      parts.append("held-batch PGD \(percent(held))" + (r.overfitCheckTrainingAttackAccuracy.map { " (training attack \(percent($0)))" } ?? "")
        + (r.catastrophicOverfitting == true ? "  CATASTROPHIC OVERFITTING" : ""))
    }
    parts.append("lr \(String(format: "%.4g", r.learningRate))")
    parts.append(formatDuration(r.seconds))
    return parts.joined(separator: "  ")
  }

  func summary(_ records: [EpochRecord], configuration c: TrainingConfiguration, run: RunDirectory) {
    guard let last = records.last else { return }
    let total = records.reduce(0) { $0 + $1.seconds }
    if let stop = records.last, stop.catastrophicOverfitting == true, c.stopOnOverfit == true {
      print("stopped:  catastrophic overfitting at epoch \(stop.epoch) (--stop-on-overfit); last.safetensors is epoch \(stop.epoch - 1)'s")
    }
    print("done in \(formatDuration(total)) (this session's epochs: see metrics.csv)")
    print("final:    test clean accuracy \(percent(last.testCleanAccuracy))"
      + (last.testRobustAccuracy.map { ", \(PGD.label(steps: c.evalSteps, stepSize: c.evaluationStepSize, norm: c.perturbation.threatNorm)) accuracy \(percent($0))" } ?? ""))
    if let best = records.max(by: { ($0.testRobustAccuracy ?? $0.testCleanAccuracy) < ($1.testRobustAccuracy ?? $1.testCleanAccuracy) }) {
      print("best:     epoch \(best.epoch): clean \(percent(best.testCleanAccuracy))"
        + (best.testRobustAccuracy.map { ", PGD \(percent($0))" } ?? ""))
    }
    print("files:    \(run.url.path)/{config.json,metrics.jsonl,metrics.csv,diagnostics.jsonl,last.safetensors,best.safetensors}")
  }
}
