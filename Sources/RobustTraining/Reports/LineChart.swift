import Foundation

/// A line chart with several series, labelled axes, nice ticks, a legend below the plot (so it
/// never covers data), optional dashed zero line and vertical markers, rendered as SVG.
public struct LineChart: Equatable, Sendable {
  public var title: String
  /// Axis labels; include the unit, e.g. "accuracy (%)".
  public var xLabel: String
  public var yLabel: String
  public var series: [ChartSeries]
  public var zeroLine: Bool
  public var markers: [ChartMarker]
  /// A fixed y range (e.g. -1...1 for cosines); values outside are drawn at the edge.
  public var yRange: ClosedRange<Double>?
  /// Whole-number x ticks only (epochs).
  public var integerX: Bool
  public var width: Double
  public var height: Double
  public var fontSize: Double

  public init(title: String, xLabel: String, yLabel: String, series: [ChartSeries], zeroLine: Bool = false,
              markers: [ChartMarker] = [], yRange: ClosedRange<Double>? = nil, integerX: Bool = false,
              width: Double = 640, height: Double = 360, fontSize: Double = 13)
  {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
    self.series = series
    self.zeroLine = zeroLine
    self.markers = markers
    self.yRange = yRange
    self.integerX = integerX
    self.width = width
    self.height = height
    self.fontSize = fontSize
  }

  public var hasData: Bool { series.contains { $0.hasData } }

  /// A standalone SVG document.
  public func svg() -> String {
    SVGDocument(width: width, height: height, fontSize: fontSize,
                body: elements(width: width, height: height, legend: true)).text
  }

  func color(of index: Int) -> String {
    series[index].color ?? ChartStyle.palette[index % ChartStyle.palette.count]
  }

  var xTicks: NiceTicks {
    // Every point's x, missing values included: an epoch without a value still belongs on the axis.
    let xs = series.flatMap { $0.points.map(\.x).filter(\.isFinite) } + markers.map(\.x)
    return NiceTicks(minimum: xs.min() ?? 0, maximum: xs.max() ?? 1, target: width < 400 ? 4 : 7,
                     minimumStep: integerX ? 1 : 0)
  }

  var yTicks: NiceTicks {
    if let yRange { return NiceTicks(minimum: yRange.lowerBound, maximum: yRange.upperBound, target: height < 260 ? 5 : 6) }
    var ys = series.flatMap { $0.points.compactMap(\.drawable) }
    if zeroLine { ys.append(0) }
    return NiceTicks(minimum: ys.min() ?? 0, maximum: ys.max() ?? 1, target: height < 260 ? 4 : 6)
  }

  /// The chart's SVG elements in a `width` x `height` box at the origin.
  func elements(width: Double, height: Double, legend: Bool) -> [String] {
    let f = fontSize
    let xt = xTicks, yt = yTicks
    let yDomain = yRange.map { ($0.lowerBound, $0.upperBound) } ?? (yt.lower, yt.upper)
    let legendItems = legend && series.count > 1 ? series.indices.map { (series[$0], color(of: $0)) } : []
    let yTickWidth = yt.values.map { ChartStyle.textWidth(yt.label($0), fontSize: f) }.max() ?? 0
    let left = 8 + (yLabel.isEmpty ? 0 : f * 1.4) + yTickWidth + 8
    let lastXLabel = xt.values.last.map { ChartStyle.textWidth(xt.label($0), fontSize: f) / 2 } ?? 0
    let right = width - max(14, lastXLabel + 4)
    let top = (title.isEmpty ? 8 : f * 1.25 + 14) + (markers.isEmpty ? 0 : f + 4)
    let legendLayout = LegendLayout(items: legendItems.map { $0.0.name }, fontSize: f, width: right - left)
    let bottom = height - (f + 8) - (xLabel.isEmpty ? 0 : f + 8) - legendLayout.height - 6
    guard right - left > 20, bottom - top > 20 else { return [] }

    func px(_ x: Double) -> Double { left + (x - xt.lower) / (xt.upper - xt.lower) * (right - left) }
    func py(_ y: Double) -> Double {
      let clamped = min(max(y, yDomain.0), yDomain.1)
      return bottom - (clamped - yDomain.0) / (yDomain.1 - yDomain.0) * (bottom - top)
    }
    let c = Markup.coordinate
    var out = [String]()
    if !title.isEmpty {
      out.append(#"<text x="\#(c(left))" y="\#(c(f * 1.25 + 4))" font-size="\#(c(f * 1.15))" font-weight="bold">\#(Markup.escape(title))</text>"#)
    }
    // Grid and ticks.
    for v in yt.values where v >= yDomain.0 - 1e-12 && v <= yDomain.1 + 1e-12 {
      let y = py(v)
      out.append(#"<line x1="\#(c(left))" y1="\#(c(y))" x2="\#(c(right))" y2="\#(c(y))" stroke="\#(ChartStyle.gridColor)"/>"#)
      out.append(#"<text x="\#(c(left - 6))" y="\#(c(y + f * 0.35))" text-anchor="end">\#(Markup.escape(yt.label(v)))</text>"#)
    }
    for v in xt.values {
      let x = px(v)
      out.append(#"<line x1="\#(c(x))" y1="\#(c(top))" x2="\#(c(x))" y2="\#(c(bottom))" stroke="\#(ChartStyle.gridColor)"/>"#)
      out.append(#"<text x="\#(c(x))" y="\#(c(bottom + f + 4))" text-anchor="middle">\#(Markup.escape(xt.label(v)))</text>"#)
    }
    out.append(#"<rect x="\#(c(left))" y="\#(c(top))" width="\#(c(right - left))" height="\#(c(bottom - top))" fill="none" stroke="\#(ChartStyle.axisColor)"/>"#)
    if !xLabel.isEmpty {
      out.append(#"<text x="\#(c((left + right) / 2))" y="\#(c(bottom + 2 * f + 12))" text-anchor="middle">\#(Markup.escape(xLabel))</text>"#)
    }
    if !yLabel.isEmpty {
      let x = 8 + f * 0.9, y = (top + bottom) / 2
      out.append(#"<text transform="translate(\#(c(x)),\#(c(y))) rotate(-90)" text-anchor="middle">\#(Markup.escape(yLabel))</text>"#)
    }
    if zeroLine, yDomain.0 < 0, yDomain.1 > 0 {
      out.append(#"<line x1="\#(c(left))" y1="\#(c(py(0)))" x2="\#(c(right))" y2="\#(c(py(0)))" stroke="\#(ChartStyle.zeroLineColor)" stroke-width="1.3" stroke-dasharray="\#(ChartStyle.dash)"/>"#)
    }
    for m in markers where m.x >= xt.lower && m.x <= xt.upper {
      let x = px(m.x)
      let anchor = x > (left + right) / 2 ? "end" : "start"
      out.append(#"<line x1="\#(c(x))" y1="\#(c(top))" x2="\#(c(x))" y2="\#(c(bottom))" stroke="\#(ChartStyle.markerColor)" stroke-width="1.5" stroke-dasharray="3 3"/>"#)
      out.append(#"<text x="\#(c(x))" y="\#(c(top - 5))" text-anchor="\#(anchor)" fill="\#(ChartStyle.markerTextColor)">\#(Markup.escape(m.label))</text>"#)
    }
    // Series.
    for (i, s) in series.enumerated() {
      let colour = color(of: i)
      let dash = s.dashed ? #" stroke-dasharray="\#(ChartStyle.dash)""# : ""
      let dots = s.points.count <= 40
      for run in s.segments {
        if run.count > 1 {
          let pts = run.map { "\(c(px($0.x))),\(c(py($0.drawable!)))" }.joined(separator: " ")
          out.append(#"<polyline points="\#(pts)" fill="none" stroke="\#(colour)" stroke-width="2"\#(dash) stroke-linejoin="round"/>"#)
        }
        if dots || run.count == 1 {
          for p in run {
            out.append(#"<circle cx="\#(c(px(p.x)))" cy="\#(c(py(p.drawable!)))" r="3" fill="\#(colour)"/>"#)
          }
        }
      }
    }
    if !hasData {
      out.append(#"<text x="\#(c((left + right) / 2))" y="\#(c((top + bottom) / 2))" text-anchor="middle" fill="\#(ChartStyle.markerColor)">no data</text>"#)
    }
    out += legendLayout.elements(styles: legendItems.map { ($0.1, $0.0.dashed) }, x: left,
                                 y: height - legendLayout.height - 4)
    return out
  }
}

/// Legend entries in rows that wrap at `width`: a line sample, then the name.
struct LegendLayout {
  let items: [String]
  let fontSize: Double
  let positions: [(x: Double, row: Int)]
  let rows: Int

  init(items: [String], fontSize: Double, width: Double) {
    self.items = items
    self.fontSize = fontSize
    var positions = [(x: Double, row: Int)]()
    var x = 0.0, row = 0
    for item in items {
      let w = 30 + ChartStyle.textWidth(item, fontSize: fontSize) + 18
      if x > 0, x + w > width {
        x = 0
        row += 1
      }
      positions.append((x, row))
      x += w
    }
    self.positions = positions
    rows = items.isEmpty ? 0 : row + 1
  }

  var rowHeight: Double { fontSize + 8 }
  var height: Double { Double(rows) * rowHeight }

  func elements(styles: [(color: String, dashed: Bool)], x: Double, y: Double) -> [String] {
    let c = Markup.coordinate
    return zip(zip(items, positions), styles).flatMap { entry, style -> [String] in
      let (name, pos) = entry
      let lx = x + pos.x, ly = y + Double(pos.row) * rowHeight + rowHeight / 2
      let dash = style.dashed ? #" stroke-dasharray="\#(ChartStyle.dash)""# : ""
      return [
        #"<line x1="\#(c(lx))" y1="\#(c(ly))" x2="\#(c(lx + 24))" y2="\#(c(ly))" stroke="\#(style.color)" stroke-width="2.5"\#(dash)/>"#,
        #"<text x="\#(c(lx + 30))" y="\#(c(ly + fontSize * 0.35))">\#(Markup.escape(name))</text>"#,
      ]
    }
  }
}

/// The `<svg>` root around chart elements.
struct SVGDocument {
  let width: Double
  let height: Double
  let fontSize: Double
  let body: [String]

  var text: String {
    let c = Markup.coordinate
    return (["<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(c(width))\" height=\"\(c(height))\" "
      + "viewBox=\"0 0 \(c(width)) \(c(height))\" font-family=\"\(ChartStyle.fontFamily)\" font-size=\"\(c(fontSize))\" fill=\"#222222\">",
      "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>"] + body + ["</svg>"]).joined(separator: "\n") + "\n"
  }
}
