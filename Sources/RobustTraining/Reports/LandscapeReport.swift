import Foundation

/// Weight loss landscapes of several checkpoints: one overlaid chart, CSV, JSON and an HTML page.
public struct LandscapeReport: Codable, Sendable {
  public struct Curve: Codable, Sendable {
    /// What the legend calls it, e.g. "demo-agr/best".
    public var label: String
    public var checkpoint: String
    public var epsilon: Double
    public var attack: String?
    public var points: [WeightLandscape.Point]

    public init(label: String, checkpoint: String, epsilon: Double, attack: String?, points: [WeightLandscape.Point]) {
      self.label = label
      self.checkpoint = checkpoint
      self.epsilon = epsilon
      self.attack = attack
      self.points = points
    }
  }

  public var seed: UInt64
  public var examples: Int
  public var curves: [Curve]

  public init(seed: UInt64, examples: Int, curves: [Curve]) {
    self.seed = seed
    self.examples = examples
    self.curves = curves
  }

  /// Clean loss solid, adversarial loss dashed, one colour per checkpoint.
  public var chart: LineChart {
    var series = [ChartSeries]()
    for (i, curve) in curves.enumerated() {
      let colour = ChartStyle.palette[i % ChartStyle.palette.count]
      let alphas = curve.points.map(\.alpha)
      series.append(ChartSeries(name: "\(curve.label): clean", x: alphas, y: curve.points.map(\.cleanLoss), color: colour))
      if curve.points.contains(where: { $0.adversarialLoss != nil }) {
        series.append(ChartSeries(name: "\(curve.label): \(curve.attack ?? "adversarial")", x: alphas,
                                  y: curve.points.map(\.adversarialLoss), color: colour, dashed: true))
      }
    }
    return LineChart(title: "Weight loss landscape (filter-normalised random direction, seed \(seed))",
                     xLabel: "alpha (step along the direction, in filter norms)",
                     yLabel: "test loss (cross-entropy, nats)", series: series, width: 760, height: 440)
  }

  public var csv: String {
    var lines = ["checkpoint,label,alpha,clean_loss,clean_accuracy,adversarial_loss,adversarial_accuracy"]
    let field = Markup.csvField
    func number(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
    for curve in curves {
      for p in curve.points {
        lines.append([field(curve.checkpoint), field(curve.label), number(p.alpha), number(p.cleanLoss),
                      number(p.cleanAccuracy), number(p.adversarialLoss), number(p.adversarialAccuracy)]
          .joined(separator: ","))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The first point whose loss or accuracy is not finite (weights moved so far that the logits overflow),
  /// as "<label> at alpha <a>", or nil. Such a landscape is not written: JSON has no number for it.
  public var firstNonFinitePoint: String? {
    for curve in curves {
      for p in curve.points where ![p.cleanLoss, p.cleanAccuracy, p.adversarialLoss ?? 0, p.adversarialAccuracy ?? 0].allSatisfy(\.isFinite) {
        return "\(curve.label) at alpha \(String(format: "%g", p.alpha))"
      }
    }
    return nil
  }

  /// Writes landscape.csv, landscape.json, landscape.html and plots/ into `folder`, each file whole or not at
  /// all (`AtomicFile`); every file's content is made, and the values checked finite, before the first is
  /// written, so a landscape that cannot be written leaves nothing behind. Returns the messages to print.
  public func write(to folder: URL, png: Bool) throws -> [String] {
    if let point = firstNonFinitePoint {
      throw ConfigurationError(key: "alphas", "the loss is not finite for \(point) (the weights moved that far overflow); "
        + "nothing was written: choose a narrower range")
    }
    let csvData = Data(csv.utf8)
    let jsonData = try json()
    let page = document()
    let csvFile = folder.appendingPathComponent("landscape.csv")
    try AtomicFile.write(csvData, to: csvFile)
    try AtomicFile.write(jsonData, to: folder.appendingPathComponent("landscape.json"))
    return try ReportFiles.write(page, html: folder.appendingPathComponent("landscape.html"),
                                 plotsFolder: folder.appendingPathComponent("plots"), png: png)
  }

  public func json() throws -> Data {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(self)
  }

  public func document() -> ReportDocument {
    var page = HTMLPage(title: "Weight loss landscape")
    let svg = chart.svg()
    page.beginSection("landscape", "Loss along a random direction")
    page.figure(svg, caption: "Test loss of w + alpha·d on \(examples) test images, d a Gaussian direction with each "
      + "conv/linear filter scaled to the norm of the weight's filter (biases and BatchNorm: not moved), the same "
      + "seed for every checkpoint. Solid: clean inputs; dashed: adversarial inputs crafted against the moved weights. "
      + "A flatter curve around alpha = 0 means a flatter minimum.")
    page.endSection()
    page.beginSection("table", "Values at alpha = 0 and at the ends")
    var rows = [[String]]()
    for curve in curves {
      for p in [curve.points.first, curve.points.min { abs($0.alpha) < abs($1.alpha) }, curve.points.last].compactMap({ $0 }) {
        rows.append([curve.label, Markup.number(p.alpha, digits: 3), Markup.number(p.cleanLoss), Markup.percent(p.cleanAccuracy),
                     Markup.number(p.adversarialLoss), Markup.percent(p.adversarialAccuracy)])
      }
    }
    page.table(["checkpoint", "alpha", "clean loss", "clean acc", "adv loss", "adv acc"], rows, numeric: [1, 2, 3, 4, 5])
    page.endSection()
    return ReportDocument(html: page.html, plots: [("landscape.svg", svg)])
  }
}
