/// Small multiples: charts of the same kind in a grid of equal cells, with one shared legend on top.
public struct ChartGrid: Equatable, Sendable {
  public var title: String
  public var charts: [LineChart]
  public var columns: Int
  public var cellWidth: Double
  public var cellHeight: Double
  public var fontSize: Double

  public init(title: String, charts: [LineChart], columns: Int = 4, cellWidth: Double = 300,
              cellHeight: Double = 230, fontSize: Double = 12)
  {
    self.title = title
    self.charts = charts
    self.columns = max(1, min(columns, charts.count))
    self.cellWidth = cellWidth
    self.cellHeight = cellHeight
    self.fontSize = fontSize
  }

  public var rows: Int { (charts.count + columns - 1) / columns }

  public func svg() -> String {
    let c = Markup.coordinate
    let legendSeries = charts.first.map { chart in chart.series.indices.map { (chart.series[$0], chart.color(of: $0)) } } ?? []
    let shownLegend = legendSeries.count > 1 ? legendSeries : []
    let width = Double(columns) * cellWidth
    let legend = LegendLayout(items: shownLegend.map { $0.0.name }, fontSize: fontSize + 1, width: width - 16)
    let titleHeight = title.isEmpty ? 0 : (fontSize + 2) * 1.25 + 12
    let headerHeight = titleHeight + legend.height + (shownLegend.isEmpty ? 0 : 6)
    let height = headerHeight + Double(rows) * cellHeight
    var body = [String]()
    if !title.isEmpty {
      body.append(#"<text x="8" y="\#(c((fontSize + 2) * 1.25 + 2))" font-size="\#(c(fontSize + 2))" font-weight="bold">\#(Markup.escape(title))</text>"#)
    }
    body += legend.elements(styles: shownLegend.map { ($0.1, $0.0.dashed) }, x: 8, y: titleHeight)
    for (i, chart) in charts.enumerated() {
      var cell = chart
      cell.fontSize = fontSize
      let x = Double(i % columns) * cellWidth, y = headerHeight + Double(i / columns) * cellHeight
      body.append(#"<svg x="\#(c(x))" y="\#(c(y))" width="\#(c(cellWidth))" height="\#(c(cellHeight))" font-size="\#(c(fontSize))">"#)
      body += cell.elements(width: cellWidth, height: cellHeight, legend: false)
      body.append("</svg>")
    }
    return SVGDocument(width: width, height: height, fontSize: fontSize, body: body).text
  }
}
