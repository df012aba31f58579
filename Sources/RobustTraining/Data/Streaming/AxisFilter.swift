import Foundation

/// The weights that resample one axis of an image: a triangle (bilinear) filter, widened by the shrink factor
/// when shrinking so that every source pixel counts (antialiasing, as PIL and torchvision's `antialias=True`
/// resize). Output pixel `i` is the weighted sum of source pixels `starts[i] ..< starts[i] + counts[i]`.
public struct AxisFilter: Equatable, Sendable {
  public let starts: [Int]
  public let counts: [Int]
  /// `taps` weights per output pixel (those past its count are unused), each pixel's summing to 1.
  public let weights: [Float]
  public let taps: Int

  /// `output` pixels from the source span [low, low + length) (pixel edges) of an axis of `sourceSize` pixels;
  /// the filter may reach past the span, never past the axis.
  public init(output: Int, low: Double, length: Double, sourceSize: Int) {
    let scale = length / Double(output)
    let widening = Swift.max(scale, 1)
    let support = widening  // the triangle's half-width, in source pixels
    var starts = [Int](repeating: 0, count: output)
    var counts = [Int](repeating: 0, count: output)
    var rows = [[Float]]()
    rows.reserveCapacity(output)
    for i in 0..<output {
      let center = low + (Double(i) + 0.5) * scale
      let first = Swift.max(0, Int((center - support - 0.5).rounded(.down)))
      let last = Swift.min(sourceSize - 1, Int((center + support - 0.5).rounded(.up)))
      var row = [Double]()
      if first <= last {
        for j in first...last { row.append(Swift.max(0, 1 - abs((Double(j) + 0.5 - center) / widening))) }
      }
      let total = row.reduce(0, +)
      if total > 0 {
        starts[i] = first
        rows.append(row.map { Float($0 / total) })
      } else {  // a span outside the axis (not drawn by the transforms): the nearest pixel
        starts[i] = Swift.min(Swift.max(0, Int(center.rounded(.down))), sourceSize - 1)
        rows.append([1])
      }
      counts[i] = rows[i].count
    }
    let taps = counts.max() ?? 1
    var weights = [Float](repeating: 0, count: output * taps)
    for i in 0..<output { for k in 0..<counts[i] { weights[i * taps + k] = rows[i][k] } }
    self.starts = starts
    self.counts = counts
    self.weights = weights
    self.taps = taps
  }

  /// The first source pixel any output uses, and one past the last.
  public var sourceRange: Range<Int> {
    let low = starts.min() ?? 0
    let high = zip(starts, counts).map { $0 + $1 }.max() ?? 0
    return low..<high
  }
}
