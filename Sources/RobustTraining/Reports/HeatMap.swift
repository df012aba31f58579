import Foundation

/// A rows x columns grid of shaded cells (white to dark blue by value), with row labels on the left, a
/// coloured mark of each row's group, column ticks below, an optional dashed vertical line, a note per
/// row on the right, and a colour bar. Rendered as SVG.
public struct HeatMap: Equatable, Sendable {
  public var title: String
  public var rowLabels: [String]
  /// A colour per row (its layer kind), shown as a small square before the label; nil: none.
  public var rowColors: [String?]
  /// values[row][column] in [0, maximum]; nil cells stay blank.
  public var values: [[Double?]]
  /// The x axis: its label, the value at the left edge of the first column and the right edge of the last.
  public var xLabel: String
  public var xRange: ClosedRange<Double>
  public var xTicks: [Double]
  /// A dashed vertical line at this x (the cosine's zero).
  public var xLine: Double?
  /// Text after each row (its share of conflicts, say), with a heading above the column.
  public var rowNotes: [String]
  public var rowNotesHeading: String
  public var scaleLabel: String
  /// Legend of the row colours: (colour, name).
  public var groups: [(color: String, name: String)]
  /// Shade by the square root of the value, so that small shares beside a dominant bin stay visible.
  public var squareRootScale = false

  public static func == (a: HeatMap, b: HeatMap) -> Bool { a.svg() == b.svg() }

  public init(title: String, rowLabels: [String], rowColors: [String?], values: [[Double?]], xLabel: String,
              xRange: ClosedRange<Double>, xTicks: [Double], xLine: Double? = nil, rowNotes: [String] = [],
              rowNotesHeading: String = "", scaleLabel: String, groups: [(color: String, name: String)] = [])
  {
    self.title = title
    self.rowLabels = rowLabels
    self.rowColors = rowColors
    self.values = values
    self.xLabel = xLabel
    self.xRange = xRange
    self.xTicks = xTicks
    self.xLine = xLine
    self.rowNotes = rowNotes
    self.rowNotesHeading = rowNotesHeading
    self.scaleLabel = scaleLabel
    self.groups = groups
  }

  static let fontSize = 11.0
  static let rowHeight = 12.0
  static let plotWidth = 460.0

  /// White (0) to dark blue (1), through the light blues of a sequential scale.
  static func shade(_ t: Double) -> String {
    let stops: [(Double, Double, Double)] = [(255, 255, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]
    let x = min(max(t, 0), 1) * Double(stops.count - 1)
    let i = min(Int(x), stops.count - 2)
    let f = x - Double(i)
    let mix = (0..<3).map { k -> Int in
      let a = [stops[i].0, stops[i].1, stops[i].2][k], b = [stops[i + 1].0, stops[i + 1].1, stops[i + 1].2][k]
      return Int((a + (b - a) * f).rounded())
    }
    return String(format: "#%02x%02x%02x", mix[0], mix[1], mix[2])
  }

  /// "−0.5", "0", "0.25": at most three significant digits, with a real minus sign.
  static func tickText(_ v: Double) -> String { NiceTicks.typographicMinus(String(format: "%.3g", v)) }

  func shade(_ fraction: Double) -> String { Self.shade(squareRootScale ? fraction.squareRoot() : fraction) }

  public func svg() -> String {
    let f = Self.fontSize, c = Markup.coordinate
    let labelWidth = min(300, (rowLabels.map { ChartStyle.textWidth($0, fontSize: f) }.max() ?? 0) + 8)
    let left = 8 + 14 + labelWidth
    let top = (title.isEmpty ? 8 : f * 1.3 + 16) + f + 6
    let columns = values.first?.count ?? 0
    let cellWidth = Self.plotWidth / Double(max(columns, 1))
    let plotHeight = Double(rowLabels.count) * Self.rowHeight
    let right = left + Self.plotWidth
    let notesWidth = rowNotes.isEmpty ? 0 : max(ChartStyle.textWidth(rowNotesHeading, fontSize: f), 60) + 16
    let maximum = values.flatMap { $0.compactMap { $0 } }.max() ?? 1
    var out = [String]()
    if !title.isEmpty {
      out.append(#"<text x="8" y="\#(c(f * 1.3 + 4))" font-size="\#(c(f * 1.25))" font-weight="bold">\#(Markup.escape(title))</text>"#)
    }
    if !rowNotes.isEmpty {
      out.append(#"<text x="\#(c(right + 10))" y="\#(c(top - 6))">\#(Markup.escape(rowNotesHeading))</text>"#)
    }
    for (row, label) in rowLabels.enumerated() {
      let y = top + Double(row) * Self.rowHeight
      if let color = rowColors[row] {
        out.append(#"<rect x="8" y="\#(c(y + 2))" width="9" height="\#(c(Self.rowHeight - 4))" fill="\#(color)"/>"#)
      }
      out.append(#"<text x="\#(c(left - 6))" y="\#(c(y + Self.rowHeight - 3))" text-anchor="end">\#(Markup.escape(label))</text>"#)
      for (column, value) in values[row].enumerated() {
        guard let value, maximum > 0 else { continue }
        out.append(#"<rect x="\#(c(left + Double(column) * cellWidth))" y="\#(c(y))" width="\#(c(cellWidth + 0.4))" height="\#(c(Self.rowHeight + 0.4))" fill="\#(shade(value / maximum))"/>"#)
      }
      if row < rowNotes.count {
        out.append(#"<text x="\#(c(right + 10))" y="\#(c(y + Self.rowHeight - 3))">\#(Markup.escape(rowNotes[row]))</text>"#)
      }
    }
    let bottom = top + plotHeight
    out.append(#"<rect x="\#(c(left))" y="\#(c(top))" width="\#(c(Self.plotWidth))" height="\#(c(plotHeight))" fill="none" stroke="\#(ChartStyle.axisColor)"/>"#)
    func px(_ x: Double) -> Double { left + (x - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * Self.plotWidth }
    for tick in xTicks {
      out.append(#"<line x1="\#(c(px(tick)))" y1="\#(c(bottom))" x2="\#(c(px(tick)))" y2="\#(c(bottom + 4))" stroke="\#(ChartStyle.axisColor)"/>"#)
      out.append(#"<text x="\#(c(px(tick)))" y="\#(c(bottom + f + 6))" text-anchor="middle">\#(Markup.escape(Self.tickText(tick)))</text>"#)
    }
    if let xLine {
      out.append(#"<line x1="\#(c(px(xLine)))" y1="\#(c(top))" x2="\#(c(px(xLine)))" y2="\#(c(bottom))" stroke="\#(ChartStyle.palette[1])" stroke-width="1.5" stroke-dasharray="4 3"/>"#)
    }
    out.append(#"<text x="\#(c(left + Self.plotWidth / 2))" y="\#(c(bottom + 2 * f + 12))" text-anchor="middle">\#(Markup.escape(xLabel))</text>"#)
    // Colour bar, and the row colours' legend, below the axis label.
    let barY = bottom + 2 * f + 24
    let steps = 40
    for i in 0..<steps {
      out.append(#"<rect x="\#(c(left + Double(i) * 160 / Double(steps)))" y="\#(c(barY))" width="\#(c(160 / Double(steps) + 0.4))" height="10" fill="\#(shade(Double(i) / Double(steps - 1)))"/>"#)
    }
    out.append(#"<rect x="\#(c(left))" y="\#(c(barY))" width="160" height="10" fill="none" stroke="\#(ChartStyle.axisColor)"/>"#)
    out.append(#"<text x="\#(c(left))" y="\#(c(barY + f + 12))">0</text>"#)
    out.append(#"<text x="\#(c(left + 160))" y="\#(c(barY + f + 12))" text-anchor="end">\#(Markup.escape(Self.tickText(maximum)))</text>"#)
    out.append(#"<text x="\#(c(left + 170))" y="\#(c(barY + 9))">\#(Markup.escape(scaleLabel + (squareRootScale ? " (square-root shading)" : "")))</text>"#)
    var x = left
    let groupY = barY + 2 * f + 18
    for group in groups {
      out.append(#"<rect x="\#(c(x))" y="\#(c(groupY - 9))" width="9" height="9" fill="\#(group.color)"/>"#)
      out.append(#"<text x="\#(c(x + 13))" y="\#(c(groupY))">\#(Markup.escape(group.name))</text>"#)
      x += 13 + ChartStyle.textWidth(group.name, fontSize: f) + 18
    }
    let width = max(right + notesWidth + 8, x + 8)
    let height = groupY + 10
    return SVGDocument(width: width, height: height, fontSize: f, body: out).text
  }
}
