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
    let reports = layout.evaluations(run).map { try? EvaluationReport.read($0.report) }
    if let pgd = reports.first ?? nil {
      values[.bestClean] = pgd.cleanAccuracy
      values[.bestPGD] = pgd.pgdAccuracy
    }
    if reports.count > 1, let second = reports[1] {
      values[.bestAutoAttack] = second.autoAttackAccuracy ?? second.attacks.last?.accuracy
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

  public var isAccuracy: Bool { self != .trainingSeconds }

  /// The column heading, with the evaluation's attack names.
  public func heading(_ evaluation: GridEvaluation, evalSteps: Int) -> String {
    switch self {
    case .finalClean: return "final clean"
    case .finalPGD: return "final PGD-\(evalSteps)"
    case .bestClean: return "best clean"
    case .bestPGD: return "best PGD-\(evaluation.pgdSteps)"
    case .bestAutoAttack:
      let names = ["aa": "AutoAttack", "autoattack": "AutoAttack", "aa-apgd": "AutoAttack (APGD)", "autoattack-apgd": "AutoAttack (APGD)"]
      return "best " + (evaluation.autoAttack.map { names[$0] ?? $0 } ?? "–")
    case .trainingSeconds: return "training time"
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
