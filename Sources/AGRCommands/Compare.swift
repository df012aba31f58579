import ArgumentParser
import Foundation
import RobustTraining

struct Compare: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Compare runs: a table of final and best clean / PGD / AutoAttack accuracy and time, and overlaid curves.",
    discussion: """
      Prints the table and writes an HTML page (default compare.html) with the curves inline, and the plots \
      as SVG (and PNG with rsvg-convert) in a plots folder next to it.
      """)

  @Argument(help: "Run directories.") var runDirectories: [String]
  @Option(help: "Where to write the HTML.") var output: String = "compare.html"
  @Flag(help: "Do not write PNG versions of the plots.") var noPng = false

  func validate() throws {
    guard !runDirectories.isEmpty else { throw ValidationError("give at least one run directory") }
  }

  func run() throws {
    try reportingErrors(Compare.self) {
      let runs = try runDirectories.map { try RunRecords.load(URL(fileURLWithPath: $0)) }
      let comparison = RunComparison(runs)
      print(comparison.textTable)
      let html = URL(fileURLWithPath: output)
      let plots = html.deletingLastPathComponent()
        .appendingPathComponent(html.deletingPathExtension().lastPathComponent + "-plots")
      let messages = try ReportFiles.write(comparison.document(), html: html, plotsFolder: plots, png: !noPng)
      print("")
      messages.forEach { print($0) }
    }
  }
}
