import ArgumentParser
import Foundation
import RobustTraining

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write an HTML report of a run: configuration, per-epoch table, curves, AGR and gradient diagnostics.",
    discussion: """
      Writes RUN_DIR/report.html (self-contained: plots inline as SVG) and each plot as RUN_DIR/plots/*.svg, \
      plus PNG versions when rsvg-convert is installed (apt-get install librsvg2-bin). Works on interrupted runs \
      and shows the latest agr eval report (eval-*.json) when there is one.
      """)

  @Argument(help: "A run directory (holding config.json).") var runDirectory: String
  @Option(help: "Where to write the HTML (default: RUN_DIR/report.html).") var output: String?
  @Flag(help: "Do not write PNG versions of the plots.") var noPng = false

  func run() throws {
    try reportingErrors(Report.self) {
      let run = try RunRecords.load(URL(fileURLWithPath: runDirectory))
      let html = output.map { URL(fileURLWithPath: $0) } ?? run.directory.url.appendingPathComponent("report.html")
      let messages = try ReportFiles.write(RunReport.make(run), html: html,
                                           plotsFolder: run.directory.url.appendingPathComponent("plots"), png: !noPng)
      print("\(run.name): \(run.methodDescription), \(run.epochs.count) of \(run.configuration.epochs) epochs, "
        + "\(run.diagnostics.count) gradient samples, \(run.evaluations.count) eval reports")
      messages.forEach { print($0) }
    }
  }
}
