import Foundation

/// The grid's result table: per cell (the runs that differ only in their seed) the mean and standard
/// deviation of every `GridMetric`, and per cell with AGR the difference of its means from the same cell
/// without AGR.
public struct GridTable: Sendable {
  public let title: String
  public let evaluation: GridEvaluation
  public let results: [GridRunResult]
  public let cells: [Cell]
  public let deltas: [Delta]

  public struct Cell: Sendable {
    public let name: String
    public let runs: [GridRunResult]
    public let summaries: [GridMetric: GridSummary]
    public var completeRuns: Int { runs.filter(\.isComplete).count }
  }

  /// AGR minus the baseline, per metric, for one cell pair.
  public struct Delta: Sendable {
    /// The cell's name without its AGR token ("trades").
    public let name: String
    public let agr: String
    public let baseline: String
    public let differences: [GridMetric: Double]
  }

  public init(title: String, evaluation: GridEvaluation, results: [GridRunResult]) {
    self.title = title
    self.evaluation = evaluation
    self.results = results
    var order = [String]()
    var byCell = [String: [GridRunResult]]()
    for result in results {
      if byCell[result.run.cell] == nil { order.append(result.run.cell) }
      byCell[result.run.cell, default: []].append(result)
    }
    let cells = order.map { name -> Cell in
      let runs = byCell[name]!.filter(\.isComplete)
      let summaries = Dictionary(uniqueKeysWithValues: GridMetric.allCases.compactMap { metric in
        GridSummary(runs.compactMap { $0.values[metric] }).map { (metric, $0) }
      })
      return Cell(name: name, runs: byCell[name]!, summaries: summaries)
    }
    self.cells = cells
    let byName = Dictionary(uniqueKeysWithValues: cells.map { ($0.name, $0) })
    deltas = cells.compactMap { cell -> Delta? in
      guard let run = cell.runs.first?.run, run.token(of: "agr") == "agr",
            let baselineName = run.cell(with: "agr", "no-agr"), let baseline = byName[baselineName] else { return nil }
      var differences = [GridMetric: Double]()
      for metric in GridMetric.allCases {
        if let a = cell.summaries[metric], let b = baseline.summaries[metric] { differences[metric] = a.mean - b.mean }
      }
      let name = run.tokens.filter { $0.axis != "agr" && $0.axis != GridAxis.replicateKey }.map(\.value)
        .joined(separator: GridRun.separator)
      return Delta(name: name.isEmpty ? "all" : name, agr: cell.name, baseline: baselineName, differences: differences)
    }
  }

  /// The runs' per-epoch PGD as it is named (the first run's: "PGD-20 (step 2/255)").
  var perEpochPGD: String {
    let c = results.first?.run.configuration ?? TrainingConfiguration()
    return PGD.label(steps: c.evalSteps, stepSize: c.evaluationStepSize, norm: c.perturbation.threatNorm)
  }

  /// The runs' threat models, "L2 eps 128/255" (several, comma-separated, when the runs differ): every
  /// number in the table is robustness in these.
  var threatModels: String {
    var seen: [String] = []
    for result in results {
      let p = result.run.configuration.perturbation
      let text = "\(p.threatNorm) eps \(stepSizeText(p.epsilon))"
      if !seen.contains(text) { seen.append(text) }
    }
    return seen.isEmpty ? "\(Norm.lInf)" : seen.joined(separator: ", ")
  }

  public var metrics: [GridMetric] {
    // peak memory: a column once a run recorded it (runs from before it was recorded have none)
    GridMetric.allCases.filter {
      ($0 != .bestAutoAttack || evaluation.autoAttack != nil) && ($0 != .peakMemory || results.contains { $0.values[.peakMemory] != nil })
    }
  }

  public var completeRuns: Int { results.filter(\.isComplete).count }
}
