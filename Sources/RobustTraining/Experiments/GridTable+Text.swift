import Foundation

/// The grid's table as Markdown and CSV (full-precision numbers, fractions in [0, 1], seconds).
extension GridTable {
  func headings() -> [String] { metrics.map { $0.heading(evaluation, perEpochPGD: perEpochPGD) } }

  /// "45.20 ± 1.31" (percentage points), "12m04s ± 30s", or "–".
  func text(_ summary: GridSummary?, _ metric: GridMetric) -> String {
    guard let summary else { return "–" }
    if !metric.isAccuracy {
      return metric.quantityText(summary.mean) + (summary.standardDeviation.map { " ± " + metric.quantityText($0) } ?? "")
    }
    return String(format: "%.2f", summary.mean * 100) + (summary.standardDeviation.map { String(format: " ± %.2f", $0 * 100) } ?? "")
  }

  func deltaText(_ value: Double?, _ metric: GridMetric) -> String {
    guard let value else { return "–" }
    if !metric.isAccuracy { return (value < 0 ? "-" : "+") + metric.quantityText(abs(value)) }
    return String(format: "%+.2f", value * 100)
  }

  func cellRows() -> [[String]] {
    cells.map { cell in
      [cell.name, "\(cell.completeRuns)/\(cell.runs.count)"] + metrics.map { text(cell.summaries[$0], $0) }
    }
  }

  func deltaRows() -> [[String]] {
    deltas.map { d in [d.name] + metrics.map { deltaText(d.differences[$0], $0) } }
  }

  /// What the columns mean, for every format.
  var notes: [String] {
    var notes = [
      "Threat model: \(threatModels) (training, the per-epoch test and agr eval's attacks).",
      "Accuracies in %, mean ± sample standard deviation over the seeds of each cell (finished runs only; 'runs' counts them).",
      "final: the last epoch's test evaluation (metrics.jsonl; the run's test subset, \(perEpochPGD)).",
      "best: best.safetensors (the epoch with the best PGD accuracy) evaluated by agr eval: clean and "
        + "PGD-\(evaluation.pgdSteps) with step eps/4 on \(evaluation.pgdExamples.map { "the first \($0)" } ?? "all") test images",
    ]
    if let attack = evaluation.autoAttack {
      notes[3] += ", \(attack == "aa" ? "AutoAttack (standard)" : attack) on the first \(evaluation.autoAttackExamples)."
    } else {
      notes[3] += "."
    }
    notes.append("training time: the sum of the epochs' times (metrics.jsonl), evaluation excluded.")
    if metrics.contains(.peakMemory) {
      notes.append("peak memory: the run's highest peak_memory_bytes (metrics.jsonl): CUDA's max allocated on a GPU, "
        + "the process's resident-set high-water mark (VmHWM) on the CPU.")
    }
    if !deltas.isEmpty { notes.append("AGR − baseline: the difference of the cell means, in percentage points.") }
    return notes
  }

  public var markdown: String {
    func table(_ headers: [String], _ rows: [[String]]) -> [String] {
      ["| " + headers.joined(separator: " | ") + " |",
       "|" + headers.indices.map { $0 == 0 ? "---|" : "---:|" }.joined()]
        + rows.map { "| " + $0.joined(separator: " | ") + " |" }
    }
    var lines = ["# \(title)", "", "Threat model: \(threatModels).", ""]
    lines += table(["cell", "runs"] + headings(), cellRows())
    if !deltas.isEmpty {
      lines += ["", "## AGR − baseline", ""]
      lines += table(["cell"] + headings(), deltaRows())
    }
    lines += [""] + notes.map { "- " + $0 }
    return lines.joined(separator: "\n") + "\n"
  }

  static func csvNumber(_ v: Double?) -> String { v.map { "\($0)" } ?? "" }

  /// One line per cell: runs finished and run count, then mean and std of every metric.
  public var cellsCSV: String {
    let header = ["cell", "runs_finished", "runs"] + metrics.flatMap { ["\($0.rawValue)_mean", "\($0.rawValue)_std"] }
    let rows = cells.map { cell in
      [cell.name, String(cell.completeRuns), String(cell.runs.count)]
        + metrics.flatMap { [Self.csvNumber(cell.summaries[$0]?.mean), Self.csvNumber(cell.summaries[$0]?.standardDeviation)] }
    }
    return Self.csv([header] + rows)
  }

  /// One line per run with its own numbers.
  public var runsCSV: String {
    let header = ["run", "cell", "epochs_done", "epochs"] + metrics.map(\.rawValue)
    let rows = results.map { r in
      [r.run.name, r.run.cell, String(r.epochsDone), String(r.run.configuration.epochs)] + metrics.map { Self.csvNumber(r.values[$0]) }
    }
    return Self.csv([header] + rows)
  }

  public var deltaCSV: String {
    let header = ["cell", "agr_cell", "baseline_cell"] + metrics.map { "\($0.rawValue)_difference" }
    return Self.csv([header] + deltas.map { d in [d.name, d.agr, d.baseline] + metrics.map { Self.csvNumber(d.differences[$0]) } })
  }

  static func csv(_ rows: [[String]]) -> String {
    rows.map { $0.map(Markup.csvField).joined(separator: ",") }.joined(separator: "\n") + "\n"
  }
}
