import Foundation
import Testing

@testable import RobustTraining

/// Small run directories written with the library's own RunDirectory API.
enum ReportFixture {
  static func record(_ epoch: Int, agr: Bool = false, gop: Double? = nil, robust: Double? = 0.3) -> EpochRecord {
    EpochRecord(epoch: epoch, learningRate: 0.1 / Double(epoch), agrActive: agr, trainLoss: 2.0 / Double(epoch),
                trainCleanAccuracy: 0.5 + 0.1 * Double(epoch), trainAdversarialAccuracy: 0.2 + 0.05 * Double(epoch),
                testCleanLoss: 1.5 / Double(epoch), testCleanAccuracy: 0.6 + 0.05 * Double(epoch),
                testRobustLoss: 2.5 / Double(epoch), testRobustAccuracy: robust.map { $0 + 0.02 * Double(epoch) },
                gopRate: gop, gopRateByKind: gop.map { ["conv": $0 * 2, "bn": 0, "linear": $0] },
                seconds: 10, imagesPerSecond: 100)
  }

  static let parameters = ParameterIndex(
    names: ["conv1.weight", "conv1.bias", "bn.weight", "bn.bias", "conv2.weight", "fc.weight", "fc.bias"],
    kinds: [.conv, .conv, .batchNorm, .batchNorm, .conv, .linear, .linear],
    shapes: [[4, 1, 3, 3], [4], [4], [4], [8, 4, 3, 3], [2, 32], [2]])

  static func sample(iteration: Int, epoch: Int, agr: Bool) -> GradientSample {
    let n = parameters.names.count
    return GradientSample(epoch: epoch, iteration: iteration, agrActive: agr,
                          cosine: (0..<n).map { Double($0) / 10 - Double(iteration) / 100 },
                          cleanNorm: (0..<n).map { _ in 3 }, adversarialNorm: (0..<n).map { _ in 4 })
  }

  /// A 3-epoch AT+AGR run (AGR from epoch 2) that stopped after `finished` epochs.
  static func makeRun(finished: Int = 3, diagnostics: Bool = true, configure: (inout TrainingConfiguration) -> Void = { _ in })
    throws -> RunDirectory
  {
    let run = temporaryRun("report")
    try run.create()
    var c = TrainingConfiguration()
    c.epochs = 3
    c.agrStartEpoch = 2
    c.diagnosticsEvery = diagnostics ? 10 : 0
    configure(&c)
    try run.writeConfiguration(c)
    try run.writeMetrics((1...max(finished, 1)).prefix(finished).map { record($0, agr: $0 >= 2, gop: $0 >= 2 ? 0.25 : nil) })
    try run.writeParameterIndex(parameters)
    if diagnostics {
      try run.appendDiagnostics((0..<6).map { sample(iteration: $0 * 10, epoch: $0 / 2 + 1, agr: $0 >= 2) })
    }
    return run
  }

  static func appendTruncatedLine(_ url: URL) throws {
    let handle = try FileHandle(forWritingTo: url)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(#"{"epoch": 9, "learning_ra"#.utf8))
    try handle.close()
  }
}

@Suite struct RunReportTests {
  @Test func aFolderWithoutConfigIsNotARun() throws {
    let folder = temporaryRun("not-a-run").url
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    #expect { try RunRecords.load(folder) } throws: { "\($0)".contains("not a run directory (no config.json)") }
    #expect { try RunRecords.load(folder.appendingPathComponent("missing")) } throws: { "\($0)".contains("no such directory") }
  }

  @Test func interruptedRunWithTruncatedLinesLoads() throws {
    let run = try ReportFixture.makeRun(finished: 2)
    try ReportFixture.appendTruncatedLine(run.metricsJSONL)
    try ReportFixture.appendTruncatedLine(run.diagnostics)
    let records = try RunRecords.load(run.url)
    #expect(records.epochs.map(\.epoch) == [1, 2])
    #expect(records.diagnostics.count == 6)
    #expect(!records.isComplete)
    #expect(records.agrStartIteration == 20)
    let html = RunReport.make(records).html
    #expect(html.contains("Interrupted or still running: 2 of 3 epochs"))
    #expect(XMLCheck(html).isWellFormed)
  }

  @Test func epochChartsHoldPercentagesInEpochOrder() throws {
    let run = try ReportFixture.makeRun()
    try run.writeMetrics([ReportFixture.record(3), ReportFixture.record(1), ReportFixture.record(2, robust: nil)])
    let records = try RunRecords.load(run.url)
    let accuracy = try #require(RunCharts.accuracy(records))
    let testClean = try #require(accuracy.series.first { $0.name == "test clean" })
    #expect(testClean.points.map(\.x) == [1, 2, 3])
    #expect(zip(testClean.points.compactMap(\.y), [65.0, 70, 75]).allSatisfy { abs($0 - $1) < 1e-9 })
    let robust = try #require(accuracy.series.first { $0.name.hasPrefix("test PGD") })
    #expect(robust.points[1].y == nil && robust.points[0].y != nil)
    #expect(accuracy.markers == [ChartMarker(x: 2, label: "AGR starts")])
    #expect(RunCharts.learningRate(records)?.series[0].points.map(\.y) == [0.1, 0.05, 0.1 / 3])
  }

  @Test func gopRateHasGapsWhereAGRWasOffAndIsAbsentWithoutAGR() throws {
    let records = try RunRecords.load(try ReportFixture.makeRun().url)
    let gop = try #require(RunCharts.gopRate(records))
    #expect(gop.series.map(\.name) == ["all tensors", "conv", "BatchNorm", "linear"])
    #expect(gop.series[0].points.map(\.y) == [nil, 25, 25])
    #expect(gop.series[1].points.map(\.y) == [nil, 50, 50])
    let at = try RunRecords.load(try ReportFixture.makeRun { $0.agr = false }.url)
    let atRecords = RunRecords(directory: at.directory, configuration: at.configuration,
                               epochs: at.epochs.map { var r = $0; r.gopRate = nil; r.gopRateByKind = nil; return r },
                               diagnostics: [], parameters: nil, evaluations: [])
    #expect(RunCharts.gopRate(atRecords) == nil)
    #expect(RunReport.make(atRecords).html.contains("AGR is off in this run"))
  }

  @Test func cosineGridHasOneChartPerConvolutionWeight() throws {
    let records = try RunRecords.load(try ReportFixture.makeRun().url)
    let grid = try #require(RunCharts.cosineGrid(records))
    #expect(grid.charts.map(\.title) == ["conv1", "conv2"])
    let conv2 = grid.charts[1]
    #expect(conv2.zeroLine && conv2.yRange == -1...1)
    #expect(conv2.markers == [ChartMarker(x: 20, label: "AGR on")])
    let expected = records.diagnostics.map { $0.cosine[4] }
    #expect(conv2.series[0].points.map(\.y) == expected)
    #expect(conv2.series[0].points.map(\.x) == [0, 10, 20, 30, 40, 50])
    let norms = try #require(RunCharts.gradientNorms(records))
    #expect(abs(norms.series[0].points[0].y! - (9.0 * 7).squareRoot()) < 1e-9)
  }

  @Test func runWithoutDiagnosticsSaysSoInsteadOfPlotting() throws {
    let records = try RunRecords.load(try ReportFixture.makeRun(diagnostics: false).url)
    #expect(RunCharts.cosineGrid(records) == nil && RunCharts.gradientNorms(records) == nil)
    let document = RunReport.make(records)
    #expect(document.html.contains("No gradient diagnostics: the run was trained with --diagnostics-every 0."))
    #expect(!document.plots.contains { $0.name.contains("cosine") })
  }

  @Test func reportIsWellFormedHTMLWithSectionsAndInlineSVG() throws {
    let run = try ReportFixture.makeRun()
    let eval = #"{"checkpoint": "x/best.safetensors", "epsilon": 0.1, "examples": 200, "clean_accuracy": 0.8, "clean_count": 160, "attacks": [{"name": "PGD-20", "accuracy": 0.4, "seconds": 3}, {"name": "AutoAttack", "accuracy": 0.35, "seconds": 30}], "worst_case_accuracy": 0.34, "seconds": 33}"#
    try eval.write(to: run.url.appendingPathComponent("eval-best.json"), atomically: true, encoding: .utf8)
    try "{}".write(to: run.url.appendingPathComponent("eval-best.flags.json"), atomically: true, encoding: .utf8)
    let records = try RunRecords.load(run.url)
    #expect(records.evaluations.count == 1)
    let document = RunReport.make(records)
    let xml = XMLCheck(document.html)
    #expect(xml.isWellFormed, "\(xml.error ?? "")")
    let sections = Set((xml.attributes["section"] ?? []).compactMap { $0["id"] })
    #expect(sections == ["summary", "configuration", "epochs", "curves", "agr", "diagnostics", "layer-conflicts", "evaluation"])
    #expect(xml.count("svg") >= document.plots.count)
    #expect(document.plots.map(\.name) == ["accuracy.svg", "loss.svg", "learning-rate.svg", "gop-rate.svg",
                                           "cosine-per-conv-layer.svg", "gradient-norms.svg",
                                           "gradient-norms-per-conv-layer.svg", "cosine-distribution-per-layer.svg",
                                           "conflicts-over-training-per-layer.svg"])
    #expect(xml.text.contains("AutoAttack") && xml.text.contains("35.00%") && xml.text.contains("34.00%"))
    // Self-contained: nothing to fetch.
    #expect(xml.count("script") == 0 && xml.count("link") == 0 && xml.count("img") == 0)
    for plot in document.plots { #expect(XMLCheck(plot.svg).isWellFormed, "\(plot.name)") }

    let html = run.url.appendingPathComponent("report.html")
    let messages = try ReportFiles.write(document, html: html, plotsFolder: run.url.appendingPathComponent("plots"), png: false)
    #expect(FileManager.default.fileExists(atPath: html.path))
    #expect(FileManager.default.fileExists(atPath: run.url.appendingPathComponent("plots/cosine-per-conv-layer.svg").path))
    #expect(messages.count == 2)
  }

  @Test func comparisonTableHasFinalBestAndAutoAttack() throws {
    let agr = try ReportFixture.makeRun()
    let eval = #"{"checkpoint": "b", "clean_accuracy": 0.8, "attacks": [{"name": "AutoAttack", "accuracy": 0.31}]}"#
    try eval.write(to: agr.url.appendingPathComponent("eval-best.json"), atomically: true, encoding: .utf8)
    let at = try ReportFixture.makeRun(finished: 2) { $0.agr = false }
    let comparison = RunComparison([try RunRecords.load(agr.url), try RunRecords.load(at.url)])
    let rows = comparison.rows
    #expect(rows[0].method == "AT + AGR (from epoch 2)" && rows[1].method == "AT")
    #expect(rows[0].epochs == "3/3" && rows[1].epochs == "2/3")
    #expect(abs(rows[0].finalRobust! - 0.36) < 1e-9 && abs(rows[1].bestRobust! - 0.34) < 1e-9)
    #expect(rows[0].bestRobustEpoch == 3 && rows[0].autoAttack == 0.31 && rows[1].autoAttack == nil)
    #expect(rows[0].seconds == 30)
    #expect(comparison.textTable.split(separator: "\n").count == 3)
    #expect(comparison.textTable.contains("31.00%"))
    let document = comparison.document()
    #expect(XMLCheck(document.html).isWellFormed)
    let robust = try #require(comparison.charts.first { $0.name == "compare-test-robust-accuracy.svg" }?.chart)
    #expect(robust.series.map(\.points.count) == [3, 2])
  }
}
