import Foundation

/// The per-layer conflict figures and the per-layer-kind table, as a section of a run report or a comparison.
enum LayerConflictsSection {
  static let observation = "The AGR paper's supplement observes that cs < 0 happens mostly in the early convolutional "
    + "layers for TRADES and MART and almost never in AT's convolutions (AT's projections then come from BatchNorm "
    + "tensors); the table below lets you check that on these runs."

  static let sampling = "From the gradient samples in diagnostics.jsonl (every --diagnostics-every iterations, also "
    + "in epochs without AGR and in runs without it: the cosine is measured either way)."

  static let tableHeaders = ["tensors", "tensor-samples", "cs ≤ 0", "cs ≤ 0 rate", "share of all conflicts"]

  /// Appends the section for one run; returns the plots it showed (name, SVG).
  static func add(_ run: RunRecords, to page: inout HTMLPage) -> [(name: String, svg: String)] {
    page.beginSection("layer-conflicts", "Per-layer gradient conflicts")
    defer { page.endSection() }
    guard let conflicts = LayerConflicts(run) else {
      page.paragraph("No per-layer figure: the run has no gradient samples or no parameters.json "
        + "(train with --diagnostics-every N > 0).", note: true)
      return []
    }
    page.paragraph(observation + " " + sampling, note: true)
    let rows = conflicts.kindRows
    let total = rows.last?.conflicts ?? 0
    page.table(["group"] + tableHeaders, rows.map { row in
      [row.name, String(row.tensors), String(row.samples), String(row.conflicts), Markup.percent(row.rate),
       row.name == "all tensors" ? "100.00%" : total > 0 ? Markup.percent(Double(row.conflicts) / Double(total)) : "–"]
    }, numeric: [1, 2, 3, 4, 5])
    let plots = [
      ("cosine-distribution-per-layer.svg",
       conflicts.distributionMap(title: "\(run.name) (\(run.methodDescription)): cos(g_clean, g_adv) per parameter tensor").svg()),
      ("conflicts-over-training-per-layer.svg",
       conflicts.timeMap(title: "\(run.name) (\(run.methodDescription)): share of cs ≤ 0 per tensor over training").svg()),
    ]
    page.figure(plots[0].1, caption: "Each row is one parameter tensor in model order (the square: its layer kind); "
      + "each cell the share of the tensor's samples whose cosine falls in that bin; on the right, the share with cs ≤ 0.")
    page.figure(plots[1].1, caption: "The share of samples with cs ≤ 0 per tensor in ten equal spans of training.")
    return plots
  }

  /// Appends the section for several runs: one figure per run and the per-kind rates side by side.
  static func add(_ runs: [RunRecords], to page: inout HTMLPage) -> [(name: String, svg: String)] {
    page.beginSection("layer-conflicts", "Per-layer gradient conflicts")
    defer { page.endSection() }
    let measured = runs.compactMap { run in LayerConflicts(run).map { (run, $0) } }
    guard !measured.isEmpty else {
      page.paragraph("No run has gradient samples (train with --diagnostics-every N > 0).", note: true)
      return []
    }
    page.paragraph(observation + " " + sampling, note: true)
    var groupNames = [String]()
    for (_, conflicts) in measured { for row in conflicts.kindRows where !groupNames.contains(row.name) { groupNames.append(row.name) } }
    let rates = measured.map { _, conflicts in Dictionary(uniqueKeysWithValues: conflicts.kindRows.map { ($0.name, $0.rate) }) }
    page.table(["cs ≤ 0 rate"] + measured.map { "\($0.0.name) (\($0.0.methodDescription))" }, groupNames.map { group in
      [group] + rates.map { Markup.percent($0[group] ?? nil) }
    }, numeric: Set(1...measured.count))
    var plots = [(name: String, svg: String)]()
    for (i, (run, conflicts)) in measured.enumerated() {
      let svg = conflicts.distributionMap(title: "\(run.name) (\(run.methodDescription)): cos(g_clean, g_adv) per parameter tensor").svg()
      plots.append(("cosine-distribution-per-layer-\(i + 1).svg", svg))
      page.figure(svg)
    }
    return plots
  }
}
