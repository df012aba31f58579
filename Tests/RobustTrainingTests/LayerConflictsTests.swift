import Foundation
import Testing

@testable import RobustTraining

/// The per-layer figure of the clean vs adversarial gradient cosine and the per-layer-kind conflict table.
@Suite struct LayerConflictsTests {
  // ReportFixture's samples: tensor t at iteration i has cosine t/10 - i/100, i = 0, 10, ..., 50, so tensor t
  // has 6 - t samples with cs <= 0 (none for t = 6).
  @Test func conflictsAreCountedPerTensorAndPerKind() throws {
    let run = try RunRecords.load(try ReportFixture.makeRun().url)
    let conflicts = try #require(LayerConflicts(run))
    #expect(conflicts.conflicts == [6, 5, 4, 3, 2, 1, 0] && conflicts.samples == Array(repeating: 6, count: 7))
    #expect(conflicts.histograms.map { $0.reduce(0, +) } == Array(repeating: 6, count: 7))
    // tensor 0's cosines 0, -0.1, ..., -0.5 all fall left of the zero line (bins are (a, b]), tensor 6's right of it
    #expect(conflicts.histograms[0][..<10].reduce(0, +) == 6 && conflicts.histograms[6][10...].reduce(0, +) == 6)
    #expect(LayerConflicts.bin(0) == 9 && LayerConflicts.bin(-1) == 0 && LayerConflicts.bin(1) == 19 && LayerConflicts.bin(0.01) == 10)
    let rows = conflicts.kindRows
    #expect(rows.map(\.name) == ["conv, first third by depth", "conv, the rest", "BatchNorm", "linear", "all tensors"])
    #expect(rows.map(\.conflicts) == [6, 7, 7, 1, 21] && rows.map(\.samples) == [6, 12, 12, 12, 42])
    #expect(rows.last?.rate == 0.5)
    // over training: tensor 6 never conflicts, tensor 0 always does
    #expect(conflicts.conflictsOverTime[0].compactMap { $0 }.allSatisfy { $0 == 1 })
    #expect(conflicts.conflictsOverTime[6].compactMap { $0 }.allSatisfy { $0 == 0 })
  }

  @Test func theFiguresAreWellFormedSVGWithOneRowPerTensor() throws {
    let run = try RunRecords.load(try ReportFixture.makeRun().url)
    let conflicts = try #require(LayerConflicts(run))
    for map in [conflicts.distributionMap(title: "d"), conflicts.timeMap(title: "t")] {
      let xml = XMLCheck(map.svg())
      #expect(xml.isWellFormed, "\(xml.error ?? "")")
      for name in ReportFixture.parameters.names { #expect(xml.text.contains(name)) }
    }
    #expect(XMLCheck(conflicts.distributionMap(title: "d").svg()).text.contains("100.00%"), "tensor 0's cs <= 0 share")
  }

  @Test func reportAndComparisonShowTheFigureAndTheKindTable() throws {
    let agr = try RunRecords.load(try ReportFixture.makeRun().url)
    let at = try RunRecords.load(try ReportFixture.makeRun { $0.agr = false }.url)
    let report = RunReport.make(agr)
    #expect(report.html.contains("Per-layer gradient conflicts") && report.html.contains("conv, first third by depth"))
    let comparison = RunComparison([agr, at]).document()
    #expect(XMLCheck(comparison.html).isWellFormed)
    #expect(comparison.plots.filter { $0.name.hasPrefix("cosine-distribution-per-layer") }.count == 2)
    #expect(comparison.html.contains("cs ≤ 0 rate") && comparison.html.contains("50.00%"))
    let none = RunReport.make(try RunRecords.load(try ReportFixture.makeRun(diagnostics: false).url))
    #expect(none.html.contains("No per-layer figure"))
  }
}
