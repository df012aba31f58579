/// One (x, y) point of a series; `y == nil` (or not finite) is missing data and breaks the line.
public struct ChartPoint: Equatable, Sendable {
  public var x: Double
  public var y: Double?

  public init(x: Double, y: Double?) {
    self.x = x
    self.y = y
  }

  /// The value when it can be drawn.
  public var drawable: Double? { y.flatMap { $0.isFinite && x.isFinite ? $0 : nil } }
}

/// A named line of a chart.
public struct ChartSeries: Equatable, Sendable {
  public var name: String
  public var points: [ChartPoint]
  /// A CSS colour; nil picks the next colour of `ChartStyle.palette`.
  public var color: String?
  public var dashed: Bool

  public init(name: String, points: [ChartPoint], color: String? = nil, dashed: Bool = false) {
    self.name = name
    self.points = points
    self.color = color
    self.dashed = dashed
  }

  /// A series from x values and optional y values of the same length.
  public init(name: String, x: [Double], y: [Double?], color: String? = nil, dashed: Bool = false) {
    self.init(name: name, points: zip(x, y).map { ChartPoint(x: $0, y: $1) }, color: color, dashed: dashed)
  }

  public var hasData: Bool { points.contains { $0.drawable != nil } }

  /// Runs of consecutive drawable points: a missing value ends a run.
  var segments: [[ChartPoint]] {
    var runs = [[ChartPoint]](), current = [ChartPoint]()
    for p in points {
      if p.drawable != nil { current.append(p) } else if !current.isEmpty {
        runs.append(current)
        current = []
      }
    }
    if !current.isEmpty { runs.append(current) }
    return runs
  }
}

/// A labelled vertical line, e.g. "AGR starts".
public struct ChartMarker: Equatable, Sendable {
  public var x: Double
  public var label: String

  public init(x: Double, label: String) {
    self.x = x
    self.label = label
  }
}

public enum ChartStyle {
  /// Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
  public static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#8C564B"]
  static let fontFamily = "Helvetica, Arial, 'DejaVu Sans', 'Liberation Sans', sans-serif"
  static let gridColor = "#e3e3e3"
  static let axisColor = "#444444"
  static let dash = "7 4"
  static let zeroLineColor = "#000000"
  static let markerColor = "#777777"
  static let markerTextColor = "#555555"

  /// Rough width of `text` in a sans-serif font (digits and lower case are about 0.55 em).
  static func textWidth(_ text: String, fontSize: Double) -> Double { Double(text.count) * fontSize * 0.56 }
}
