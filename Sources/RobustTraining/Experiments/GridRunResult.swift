import Foundation

/// One grid run's numbers, read from its own files: the last and the best epoch of `metrics.jsonl`,
/// the evaluations of `best.safetensors`, and the training time.
public struct GridRunResult: Sendable {
  public let run: GridRun
  public let epochsDone: Int
  public let values: [GridMetric: Double]

  public init(run: GridRun, epochsDone: Int, values: [GridMetric: Double]) {
    self.run = run
    self.epochsDone = epochsDone
    self.values = values
  }

  public var isComplete: Bool { epochsDone >= run.configuration.epochs }

  public static func read(_ run: GridRun, layout: GridLayout) -> GridRunResult {
    let directory = layout.run(run)
    let records = (try? directory.readMetrics()) ?? []
    var values = [GridMetric: Double]()
    if let last = records.last {
      values[.finalClean] = last.testCleanAccuracy
      values[.finalPGD] = last.testRobustAccuracy
    }
    if !records.isEmpty { values[.trainingSeconds] = records.reduce(0) { $0 + $1.seconds } }
    if let peak = records.compactMap(\.peakMemoryBytes).max() { values[.peakMemory] = peak }
    // Each evaluation is found by the attack it ran (the reports' attack specifications), not by its place.
    let reports = layout.evaluations(run).compactMap { try? EvaluationReport.read($0.report) }
    if let pgd = reports.first(where: { $0.pgdAccuracy != nil }) {
      values[.bestClean] = pgd.cleanAccuracy
      values[.bestPGD] = pgd.pgdAccuracy
    }
    if let name = layout.evaluation.autoAttack, let (kind, _) = try? AttackCatalog.parse(name) {
      values[.bestAutoAttack] = reports.lazy.compactMap { $0.accuracy(of: kind) }.first
    }
    return GridRunResult(run: run, epochsDone: records.map(\.epoch).max() ?? 0, values: values)
  }
}

/// The numbers the grid's table shows per run, and their mean and spread per cell.
public enum GridMetric: String, CaseIterable, Sendable {
  case finalClean = "final_clean"
  case finalPGD = "final_pgd"
  case bestClean = "best_clean"
  case bestPGD = "best_pgd"
  case bestAutoAttack = "best_autoattack"
  case trainingSeconds = "training_seconds"
  /// The most of any epoch's `peak_memory_bytes` (a resumed run: of its last process).
  case peakMemory = "peak_memory_bytes"

  public var isAccuracy: Bool { self != .trainingSeconds && self != .peakMemory }

  /// A value of a metric that is not an accuracy: a duration, or bytes as GiB.
  func quantityText(_ value: Double?) -> String {
    guard self == .peakMemory else { return Markup.duration(value) }
    guard let value, value.isFinite else { return "–" }
    return String(format: "%.2f GiB", value / 1_073_741_824)
  }

  /// The column heading, with the attacks' names and step sizes (`perEpochPGD`: the runs' per-epoch PGD label).
  public func heading(_ evaluation: GridEvaluation, perEpochPGD: String) -> String {
    switch self {
    case .finalClean: return "final clean"
    case .finalPGD: return "final \(perEpochPGD)"
    case .bestClean: return "best clean"
    case .bestPGD: return "best PGD-\(evaluation.pgdSteps) (step eps/4)"
    case .bestAutoAttack:
      let names = ["aa": "AutoAttack", "autoattack": "AutoAttack", "aa-apgd": "AutoAttack (APGD)", "autoattack-apgd": "AutoAttack (APGD)"]
      return "best " + (evaluation.autoAttack.map { names[$0] ?? $0 } ?? "–")
    case .trainingSeconds: return "training time"
    case .peakMemory: return "peak memory"
    }
  }
}

/// Mean and sample standard deviation of the values present.
public struct GridSummary: Equatable, Sendable {
  public let count: Int
  public let mean: Double
  /// nil for fewer than two values.
  public let standardDeviation: Double?

  public init?(_ values: [Double]) {
    guard !values.isEmpty else { return nil }
    count = values.count
    let mean = values.reduce(0, +) / Double(values.count)
    self.mean = mean
    standardDeviation = values.count < 2 ? nil
      : (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
  }
}
