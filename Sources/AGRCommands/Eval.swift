import ArgumentParser
import Foundation
import RobustTraining

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Evaluate a checkpoint: clean accuracy and robust accuracy under attacks, up to AutoAttack.",
    discussion: """
      Attacks: \(choices(AttackCatalog.self, \.summary)). The cascades run each stage on the points \
      still robust and report the per-sample worst case.
      When the checkpoint sits in a run directory, its config.json supplies the dataset, model, norm and eps \
      (else the checkpoint's metadata the norm and eps): a checkpoint trained in L2 evaluates in L2.
      Writes eval-<checkpoint>.json next to the checkpoint. With --save-flags the per-sample robust flags are \
      saved after every chunk, and --resume continues an interrupted evaluation from them.
      """)

  @Argument(help: "A model checkpoint (.safetensors), e.g. runs/NAME/best.safetensors.") var checkpoint: String
  @Option(help: "Comma-separated attacks (default: pgd20).") var attacks: String = "pgd20"
  @Option(help: "Threat model: linf, l2 or l1 (default: the one the checkpoint was trained in, else linf).") var norm: String?
  @Option(parsing: .unconditional, help: "Radius in --norm (default: the run's, else 8/255 for linf; another norm than the run's needs it).")
  var eps: String?
  @OptionGroup var source: CheckpointOptions
  @Option(parsing: .unconditional, help: "Evaluate the first N test images (default: all).") var nExamples: Int?
  @Option(parsing: .unconditional, help: "Batch size.") var batchSize: Int = 256
  @Option(help: "cpu, cuda or cuda:N.") var device: String = "cpu"
  @Option(parsing: .unconditional, help: "Seed of the attacks' random starts.") var seed: UInt64 = 0
  @Flag(help: "Save per-sample robust flags after every chunk (for --resume).") var saveFlags = false
  @Flag(help: "Continue from the saved per-sample flags of an earlier run with the same settings.") var resume = false
  @Option(help: "Where to write the JSON report (default: eval-<checkpoint>.json next to it).") var output: String?

  func run() throws { try reportingErrors(Eval.self, execute) }

  private func execute() throws {
    guard batchSize > 0 else { throw ValidationError("--batch-size: must be positive, got \(batchSize)") }
    if let nExamples, nExamples <= 0 { throw ValidationError("--n-examples: must be positive, got \(nExamples)") }
    let context = try source.source(checkpoint, eps: eps, norm: norm)
    let checkpointURL = context.url
    let epsilon = context.epsilon
    let threatNorm = context.norm
    let datasetName = context.dataset.rawValue
    let architecture = context.model.name
    let attackNames = attacks.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !attackNames.isEmpty else { throw ValidationError("--attacks: no attack named in '\(attacks)'") }
    let attackList: [any Attack]
    do {
      attackList = try attackNames.map { name -> any Attack in
        let attack = try AttackCatalog.make(name, epsilon: epsilon, norm: threatNorm, seed: seed)
        guard var cascade = attack as? AutoAttack else { return attack }
        cascade.stageFinished = { stage in
          print("    \(stage.name): broke \(stage.broken) of \(stage.attacked) in \(formatDuration(stage.seconds))")
        }
        return cascade
      }
    } catch { throw ValidationError("--attacks: \(error)") }
    let device = try prepareDevice(self.device)
    let (test, classifier) = try context.load(on: device, limit: nExamples)
    let total = min(nExamples ?? test.count, test.count)
    guard total > 0 else { throw ValidationError("--n-examples: must be positive") }
    let images = try test.images[0..<total]
    let labels = try test.labels[0..<total]
    let specifications = try attackNames.map { try AttackCatalog.specification($0, epsilon: epsilon, norm: threatNorm) }
    for specification in specifications where classifier.classCount < specification.kind.minimumClasses {
      throw ValidationError("--attacks: \(specification.kind.rawValue) needs at least \(specification.kind.minimumClasses) "
        + "classes (\(specification.kind.minimumClasses == 4 ? "the targeted DLR loss" : specification.kind.minimumClasses == 3 ? "the DLR loss" : "a target class")); "
        + "the model has \(classifier.classCount): use pgd or apgd-ce")
    }

    let stem = checkpointURL.deletingPathExtension().lastPathComponent
    let folder = checkpointURL.deletingLastPathComponent()
    let reportURL = output.map { URL(fileURLWithPath: $0) } ?? folder.appendingPathComponent("eval-\(stem).json")
    let flagsURL = folder.appendingPathComponent("eval-\(stem).flags.json")
    let settings = EvaluationState.Settings(checkpoint: checkpointURL.path, dataset: datasetName,
                                            attacks: attackList.map(\.name), epsilon: epsilon, norm: threatNorm,
                                            examples: total, seed: seed)
    var flags = EvaluationState(settings: settings)
    if resume {
      do { flags = try EvaluationState.load(flagsURL, expecting: settings) } catch {
        throw CommandError("--resume: \(error) (the first run needs --save-flags)")
      }
      print("resuming: \(flags.done) of \(total) examples already evaluated (\(flagsURL.path))")
    }

    print("checkpoint: \(checkpointURL.path) (\(architecture), \(datasetName), \(total) test images)")
    print(String(format: "threat:     %@ eps %.5f (%.2f/255), seed %llu, device %@", threatNorm.rawValue, epsilon,
                 epsilon * 255, seed, device.description))
    // The checks before trusting the numbers, on the first batch (printed now, and again in the report).
    let checked = min(total, batchSize)
    var warnings = try EvaluationChecks.beforeAttacks(
      classifier, images: try (try images[0..<checked].to(device, .float32)) / 255.0,
      labels: try labels[0..<checked].to(device, .int64),
      attacks: specifications)
    for warning in warnings { print("warning: \(warning.text)") }
    let started = Date()
    while flags.done < total {
      let end = min(flags.done + batchSize, total)
      let x = try (try images[flags.done..<end].to(.float32)) / 255.0
      let y = try labels[flags.done..<end]
      let report = try evaluateRobustness(classifier, images: x, labels: y, attacks: attackList, batchSize: batchSize) {
        progress in
        print("  [\(flags.done)..<\(end)] \(progress.attackName) done after \(formatDuration(progress.elapsedSeconds))")
      }
      flags.append(report)
      if saveFlags || resume { try flags.save(flagsURL) }
      let elapsed = Date().timeIntervalSince(started)
      let rate = Double(end - (flags.resumedFrom)) / max(elapsed, 1e-9)
      let eta = Double(total - end) / max(rate, 1e-9)
      let summary = flags.attacks.indices.map { "\(flags.attacks[$0]) \(percent(Double(flags.robustCount($0)) / Double(end)))" }
      print("[\(end)/\(total)] clean \(percent(Double(flags.cleanCount) / Double(end)))  "
        + summary.joined(separator: "  ") + "  ETA \(formatDuration(eta))")
    }
    var result = flags.report(architecture: architecture, seconds: Date().timeIntervalSince(started),
                              specifications: specifications)
    let robustByAttack = Dictionary(flags.attacks.indices.map { (flags.attacks[$0], flags.robust[$0]) }) { a, _ in a }
    let squareStage = flags.stages.flatMap { $0 }.filter { $0.name == "Square" }.map(\.broken).max()
    if let masking = EvaluationChecks.gradientMasking(examples: total, robust: robustByAttack, squareStageBroken: squareStage) {
      warnings.append(masking)
    }
    result.warnings = warnings
    print("")
    print(result.table)
    try result.write(to: reportURL)
    print("report: \(reportURL.path)")
  }
}
