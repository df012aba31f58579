import Foundation

/// Several runs side by side: a table of final and best accuracies and overlaid curves.
public struct RunComparison: Sendable {
  public let runs: [RunRecords]

  public init(_ runs: [RunRecords]) { self.runs = runs }

  public struct Row: Equatable, Sendable {
    public var name: String
    public var method: String
    public var epochs: String
    public var finalClean: Double?
    public var finalRobust: Double?
    public var bestClean: Double?
    public var bestRobust: Double?
    public var bestRobustEpoch: Int?
    /// From the latest `agr eval` report that ran AutoAttack.
    public var autoAttack: Double?
    public var seconds: Double
  }

  public var rows: [Row] {
    runs.map { run in
      let last = run.epochs.last
      let best = run.epochs.filter { $0.testRobustAccuracy != nil }.max { $0.testRobustAccuracy! < $1.testRobustAccuracy! }
      return Row(name: run.name, method: run.methodDescription, epochs: "\(run.epochs.count)/\(run.configuration.epochs)",
                 finalClean: last?.testCleanAccuracy, finalRobust: last?.testRobustAccuracy,
                 bestClean: run.epochs.map(\.testCleanAccuracy).max(), bestRobust: best?.testRobustAccuracy,
                 bestRobustEpoch: best?.epoch,
                 autoAttack: run.evaluations.last { $0.autoAttackAccuracy != nil }?.autoAttackAccuracy,
                 seconds: run.totalSeconds)
    }
  }

  var headers: [String] {
    ["run", "method", "epochs", "final clean", "final PGD", "best clean", "best PGD (epoch)", "AutoAttack", "time"]
  }

  func cells(_ r: Row) -> [String] {
    [r.name, r.method, r.epochs, Markup.percent(r.finalClean), Markup.percent(r.finalRobust), Markup.percent(r.bestClean),
     r.bestRobust.map { "\(Markup.percent($0)) (\(r.bestRobustEpoch!))" } ?? "–", Markup.percent(r.autoAttack),
     Markup.duration(r.seconds)]
  }

  /// The table as aligned plain text, for the terminal.
  public var textTable: String {
    let table = [headers] + rows.map(cells)
    let widths = headers.indices.map { i in table.map { $0[i].count }.max() ?? 0 }
    return table.map { row in
      row.enumerated().map { i, cell in
        let pad = String(repeating: " ", count: widths[i] - cell.count)
        return i < 3 ? cell + pad : pad + cell
      }.joined(separator: "  ")
    }.joined(separator: "\n")
  }

  /// One chart per metric with one line per run.
  public func overlay(_ title: String, yLabel: String, percent: Bool, _ value: @escaping (EpochRecord) -> Double?)
    -> LineChart
  {
    let series = runs.enumerated().map { i, run in
      RunCharts.epochSeries(run, run.name, percent: percent, color: ChartStyle.palette[i % ChartStyle.palette.count],
                            value)
    }
    return LineChart(title: title, xLabel: "epoch", yLabel: yLabel, series: series, integerX: true)
  }

  public var charts: [(name: String, chart: LineChart)] {
    [("compare-test-robust-accuracy.svg", overlay("Test PGD accuracy", yLabel: "accuracy (%)", percent: true) { $0.testRobustAccuracy }),
     ("compare-test-clean-accuracy.svg", overlay("Test clean accuracy", yLabel: "accuracy (%)", percent: true) { $0.testCleanAccuracy }),
     ("compare-test-robust-loss.svg", overlay("Test PGD loss", yLabel: "loss (cross-entropy, nats)", percent: false) { $0.testRobustLoss }),
     ("compare-train-loss.svg", overlay("Training loss (each run's method loss)", yLabel: "loss (nats)", percent: false) { $0.trainLoss })]
  }

  public func document() -> ReportDocument {
    var page = HTMLPage(title: "Comparison of \(runs.count) runs")
    page.beginSection("table", "Results")
    page.table(headers, rows.map(cells), numeric: Set(3..<headers.count))
    page.paragraph("PGD: the per-epoch robust evaluation on each run's test subset; AutoAttack: the latest agr eval report "
      + "that ran it, when there is one.", note: true)
    page.endSection()
    page.beginSection("curves", "Curves")
    var plots = [(name: String, svg: String)]()
    for (name, chart) in charts where chart.hasData {
      let svg = chart.svg()
      plots.append((name, svg))
      page.figure(svg)
    }
    page.endSection()
    plots += LayerConflictsSection.add(runs, to: &page)
    return ReportDocument(html: page.html, plots: plots)
  }
}
