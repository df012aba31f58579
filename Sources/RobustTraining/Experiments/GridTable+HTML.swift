import Foundation

/// The grid's table as a self-contained HTML page, and every format written beside the runs.
extension GridTable {
  public var html: String {
    var page = HTMLPage(title: title)
    let numeric = Set(1..<(metrics.count + 2))
    page.beginSection("cells", "Results per cell")
    page.paragraph("\(completeRuns) of \(results.count) runs finished.")
    page.table(["cell", "runs"] + headings(), cellRows(), numeric: numeric)
    page.endSection()
    if !deltas.isEmpty {
      page.beginSection("delta", "AGR − baseline")
      page.table(["cell"] + headings(), deltaRows(), numeric: Set(1..<(metrics.count + 1)))
      page.endSection()
    }
    page.beginSection("runs", "Runs")
    page.table(["run", "epochs"] + headings(), results.map { r in
      [r.run.name, "\(r.epochsDone)/\(r.run.configuration.epochs)"]
        + metrics.map { m in m.isAccuracy ? Markup.percent(r.values[m]) : m.quantityText(r.values[m]) }
    }, numeric: numeric)
    page.endSection()
    page.beginSection("notes", "Notes")
    notes.forEach { page.paragraph($0, note: true) }
    page.endSection()
    return page.html
  }

  /// Writes results.md, results.csv, results-runs.csv, results-delta.csv and results.html into `folder`
  /// (each atomically); returns their paths.
  @discardableResult
  public func write(to folder: URL) throws -> [URL] {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    var files: [(String, String)] = [("results.md", markdown), ("results.csv", cellsCSV), ("results-runs.csv", runsCSV),
                                     ("results.html", html)]
    if !deltas.isEmpty { files.append(("results-delta.csv", deltaCSV)) }
    return try files.map { name, text in
      let url = folder.appendingPathComponent(name)
      try AtomicFile.write(Data(text.utf8), to: url)
      return url
    }
  }
}
