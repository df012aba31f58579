import Foundation
import Testing

@testable import RobustTraining

@Suite struct PlottingTests {
  @Test func niceTicksCoverTheRangeAtRoundValues() {
    let t = NiceTicks(minimum: 0.13, maximum: 0.87, target: 5)
    #expect(t.step == 0.2)
    #expect(t.values.map { ($0 * 10).rounded() / 10 } == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    #expect(t.values.map(t.label) == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    let wide = NiceTicks(minimum: -3, maximum: 212, target: 6)
    #expect(wide.step == 50 && wide.lower == -50 && wide.upper == 250)
    #expect(NiceTicks(minimum: 0, maximum: 1, target: 5).values.map(NiceTicks(minimum: 0, maximum: 1, target: 5).label)
      == ["0", "0.25", "0.50", "0.75", "1.00"])
  }

  @Test func niceTicksHandleDegenerateAndIntegerRanges() {
    let single = NiceTicks(minimum: 5, maximum: 5)
    #expect(single.lower < 5 && single.upper > 5)
    let epochs = NiceTicks(minimum: 1, maximum: 3, target: 7, minimumStep: 1)
    #expect(epochs.values == [1, 2, 3])
    let zero = NiceTicks(minimum: 0, maximum: 0)
    #expect(zero.values.contains(0) && zero.values.count >= 2)
    let iterations = NiceTicks(minimum: 0, maximum: 15, target: 7, minimumStep: 1)
    #expect(iterations.values == [0, 2, 4, 6, 8, 10, 12, 14, 16])
    let cosine = NiceTicks(minimum: -1, maximum: 1, target: 5)
    #expect(cosine.values.map(cosine.label) == ["\u{2212}1.0", "\u{2212}0.5", "0", "0.5", "1.0"])
    let nan = NiceTicks(minimum: .nan, maximum: 1)
    #expect(nan.values.allSatisfy { $0.isFinite })
  }

  @Test func markupEscapesXMLSpecialCharacters() {
    #expect(Markup.escape(#"a<b & "c" 'd'>"#) == "a&lt;b &amp; &quot;c&quot; &#39;d&#39;&gt;")
    #expect(Markup.escape("bell\u{7}") == "bell\u{FFFD}")
  }

  @Test func lineChartIsValidSVGWithGapsAtMissingValues() {
    let chart = LineChart(title: "A <title> & more", xLabel: "epoch", yLabel: "accuracy (%)", series: [
      ChartSeries(name: "with gap", x: [1, 2, 3, 4, 5], y: [10, 20, nil, 40, 50]),
      ChartSeries(name: "nan ends a run", x: [1, 2, 3], y: [5, .nan, 7], dashed: true),
    ], markers: [ChartMarker(x: 3, label: "AGR starts")], integerX: true)
    let xml = XMLCheck(chart.svg())
    #expect(xml.isWellFormed, "\(xml.error ?? "")")
    #expect(xml.count("svg") == 1)
    // "with gap": two runs of two points; the NaN series: two isolated points only (dots, no line).
    #expect(xml.count("polyline") == 2)
    #expect(xml.text.contains("A <title> & more"))
    #expect(xml.text.contains("accuracy (%)") && xml.text.contains("AGR starts"))
    #expect(xml.text.contains("with gap") && xml.text.contains("nan ends a run"))
    #expect(xml.attributes["line"]!.contains { $0["stroke-dasharray"] == "3 3" })
  }

  @Test func zeroLineIsDrawnOnlyWhenZeroIsInside() {
    let straddling = LineChart(title: "", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "s", x: [0, 1], y: [-0.5, 0.5])],
                               zeroLine: true)
    let dashed = XMLCheck(straddling.svg()).attributes["line"]!.filter { $0["stroke-width"] == "1.3" }
    #expect(dashed.count == 1)
    var positive = straddling
    positive.yRange = 0.1...1
    #expect(XMLCheck(positive.svg()).attributes["line"]!.filter { $0["stroke-width"] == "1.3" }.isEmpty)
  }

  @Test func emptyChartSaysNoData() {
    let chart = LineChart(title: "t", xLabel: "x", yLabel: "y", series: [ChartSeries(name: "s", x: [1], y: [nil])])
    #expect(!chart.hasData)
    let xml = XMLCheck(chart.svg())
    #expect(xml.isWellFormed && xml.text.contains("no data"))
  }

  @Test func gridNestsOneSVGPerChart() {
    let charts = (0..<5).map { i in
      LineChart(title: "layer \(i)", xLabel: "iteration", yLabel: "cosine",
                series: [ChartSeries(name: "cos", x: [0, 10, 20], y: [0.5, -0.2, 0.1])], zeroLine: true, yRange: -1...1)
    }
    let grid = ChartGrid(title: "Cosines", charts: charts, columns: 4)
    #expect(grid.rows == 2)
    let xml = XMLCheck(grid.svg())
    #expect(xml.isWellFormed, "\(xml.error ?? "")")
    #expect(xml.count("svg") == 6)
    #expect(xml.count("polyline") == 5)
  }
}
