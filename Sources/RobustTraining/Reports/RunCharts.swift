import Foundation

/// The charts of one run's report, built from its records (nil where the run has no such data).
public enum RunCharts {
  static func epochSeries(_ run: RunRecords, _ name: String, percent: Bool = false, color: String? = nil,
                          dashed: Bool = false, _ value: (EpochRecord) -> Double?) -> ChartSeries
  {
    ChartSeries(name: name, points: run.epochs.map { r in
      ChartPoint(x: Double(r.epoch), y: value(r).map { percent ? $0 * 100 : $0 })
    }, color: color, dashed: dashed)
  }

  /// "AGR starts" at its first epoch, when AGR started after the first epoch.
  static func agrEpochMarker(_ run: RunRecords) -> [ChartMarker] {
    guard run.usesAGR, run.configuration.agrStartEpoch > 1,
          run.epochs.contains(where: { $0.epoch >= run.configuration.agrStartEpoch }) else { return [] }
    return [ChartMarker(x: Double(run.configuration.agrStartEpoch), label: "AGR starts")]
  }

  static func onlyWithData(_ series: [ChartSeries]) -> [ChartSeries] { series.filter(\.hasData) }

  public static func loss(_ run: RunRecords) -> LineChart? {
    let palette = ChartStyle.palette
    let series = onlyWithData([
      epochSeries(run, "train (method loss)", color: palette[0]) { $0.trainLoss },
      epochSeries(run, "test clean", color: palette[2]) { $0.testCleanLoss },
      epochSeries(run, "test PGD-\(run.configuration.evalSteps)", color: palette[1], dashed: true) { $0.testRobustLoss },
    ])
    guard !series.isEmpty else { return nil }
    return LineChart(title: "Loss", xLabel: "epoch", yLabel: "loss (cross-entropy, nats)", series: series,
                     markers: agrEpochMarker(run), integerX: true)
  }

  public static func accuracy(_ run: RunRecords) -> LineChart? {
    let palette = ChartStyle.palette
    let series = onlyWithData([
      epochSeries(run, "train clean", percent: true, color: palette[0]) { $0.trainCleanAccuracy },
      epochSeries(run, "train adversarial", percent: true, color: palette[0], dashed: true) { $0.trainAdversarialAccuracy },
      epochSeries(run, "test clean", percent: true, color: palette[2]) { $0.testCleanAccuracy },
      epochSeries(run, "test PGD-\(run.configuration.evalSteps)", percent: true, color: palette[1], dashed: true) {
        $0.testRobustAccuracy
      },
    ])
    guard !series.isEmpty else { return nil }
    return LineChart(title: "Accuracy", xLabel: "epoch", yLabel: "accuracy (%)", series: series,
                     markers: agrEpochMarker(run), integerX: true)
  }

  public static func learningRate(_ run: RunRecords) -> LineChart? {
    let series = epochSeries(run, "learning rate") { $0.learningRate }
    guard series.hasData else { return nil }
    return LineChart(title: "Learning rate", xLabel: "epoch", yLabel: "learning rate", series: [series],
                     markers: agrEpochMarker(run), integerX: true, height: 280)
  }

  /// Share of (tensor, step) pairs with conflicting gradients (cs <= 0), recorded while AGR ran.
  public static func gopRate(_ run: RunRecords) -> LineChart? {
    let kinds: [(LayerKind, String)] = [(.conv, "conv"), (.batchNorm, "BatchNorm"), (.linear, "linear")]
    let series = onlyWithData([epochSeries(run, "all tensors", percent: true, color: "#000000") { $0.gopRate }]
      + kinds.enumerated().map { i, kind in
        epochSeries(run, kind.1, percent: true, color: ChartStyle.palette[i], dashed: true) {
          $0.gopRateByKind?[kind.0.rawValue]
        }
      })
    guard !series.isEmpty else { return nil }
    return LineChart(title: "GOP rate (cs ≤ 0: gradient orthogonal projection used)", xLabel: "epoch",
                     yLabel: "GOP rate (% of tensor-steps)", series: series, markers: agrEpochMarker(run),
                     integerX: true)
  }

  /// The convolution weights (rank-4 tensors) of the parameter index: (position, name).
  static func convolutionWeights(_ run: RunRecords) -> [(index: Int, name: String)] {
    guard let p = run.parameters else { return [] }
    return p.names.indices.filter { p.kinds[$0] == .conv && p.shapes[$0].count == 4 }.map { ($0, p.names[$0]) }
  }

  static func iterationMarker(_ run: RunRecords) -> [ChartMarker] {
    guard let start = run.agrStartIteration, start > (run.diagnostics.first?.iteration ?? 0) else { return [] }
    return [ChartMarker(x: Double(start), label: "AGR on")]
  }

  /// Per convolutional layer: cosine of the clean and adversarial gradients over iterations,
  /// with the zero line (below it the gradients conflict) and the AGR start.
  public static func cosineGrid(_ run: RunRecords) -> ChartGrid? {
    let layers = convolutionWeights(run)
    guard !run.diagnostics.isEmpty, !layers.isEmpty else { return nil }
    let charts = layers.map { layer in
      LineChart(title: shortName(layer.name), xLabel: "iteration", yLabel: "cosine",
                series: [ChartSeries(name: "cos(g_clean, g_adv)", points: run.diagnostics.map {
                  ChartPoint(x: Double($0.iteration), y: layer.index < $0.cosine.count ? $0.cosine[layer.index] : nil)
                }, color: ChartStyle.palette[0])],
                zeroLine: true, markers: iterationMarker(run), yRange: -1...1, integerX: true)
    }
    return ChartGrid(title: "Cosine similarity of clean and adversarial gradients, per convolutional layer",
                     charts: charts)
  }

  /// The L2 norm over all parameters of the clean and the adversarial gradient, per sample.
  public static func gradientNorms(_ run: RunRecords) -> LineChart? {
    guard !run.diagnostics.isEmpty else { return nil }
    func total(_ norms: [Double]) -> Double? { norms.isEmpty ? nil : norms.reduce(0) { $0 + $1 * $1 }.squareRoot() }
    let x = run.diagnostics.map { Double($0.iteration) }
    return LineChart(title: "Gradient norms (all parameters)", xLabel: "iteration", yLabel: "L2 norm of gradient",
                     series: [
                       ChartSeries(name: "clean loss", x: x, y: run.diagnostics.map { total($0.cleanNorm) },
                                   color: ChartStyle.palette[2]),
                       ChartSeries(name: "adversarial (method) loss", x: x,
                                   y: run.diagnostics.map { total($0.adversarialNorm) }, color: ChartStyle.palette[1]),
                     ], markers: iterationMarker(run), integerX: true)
  }

  /// Per convolutional layer: clean and adversarial gradient norms over iterations.
  public static func layerNormGrid(_ run: RunRecords) -> ChartGrid? {
    let layers = convolutionWeights(run)
    guard !run.diagnostics.isEmpty, !layers.isEmpty else { return nil }
    func at(_ v: [Double], _ i: Int) -> Double? { i < v.count ? v[i] : nil }
    let x = run.diagnostics.map { Double($0.iteration) }
    let charts = layers.map { layer in
      LineChart(title: shortName(layer.name), xLabel: "iteration", yLabel: "L2 norm", series: [
        ChartSeries(name: "clean", x: x, y: run.diagnostics.map { at($0.cleanNorm, layer.index) },
                    color: ChartStyle.palette[2]),
        ChartSeries(name: "adversarial", x: x, y: run.diagnostics.map { at($0.adversarialNorm, layer.index) },
                    color: ChartStyle.palette[1]),
      ], markers: iterationMarker(run), integerX: true)
    }
    return ChartGrid(title: "Gradient norms per convolutional layer", charts: charts)
  }

  /// "feature_extractor.conv1.weight" -> "feature_extractor.conv1"
  static func shortName(_ name: String) -> String {
    name.hasSuffix(".weight") ? String(name.dropLast(".weight".count)) : name
  }
}
