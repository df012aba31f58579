import Foundation

/// The weights that resample one axis of an image: a triangle (bilinear) filter, widened by the shrink factor
/// when shrinking so that every source pixel counts (antialiasing, as PIL and torchvision's `antialias=True`
/// resize). Output pixel `i` is the weighted sum of source pixels `starts[i] ..< starts[i] + counts[i]`.
public struct AxisFilter: Equatable, Sendable {
  public let starts: [Int]
  public let counts: [Int]
  /// `taps` weights per output pixel (those past its count are zero), each pixel's summing to 1.
  public let weights: [Float]
  public let taps: Int

  /// `output` pixels from the source span [low, low + length) (pixel edges) of an axis of `sourceSize` pixels;
  /// the filter may reach past the span, never past the axis.
  public init(output: Int, low: Double, length: Double, sourceSize: Int) {
    let scale = length / Double(output)
    let widening = Swift.max(scale, 1)
    let support = widening  // the triangle's half-width, in source pixels
    let taps = Int((2 * support).rounded(.up)) + 2
    var starts = [Int](repeating: 0, count: output)
    var counts = [Int](repeating: 0, count: output)
    var weights = [Float](repeating: 0, count: output * taps)
    var row = [Double](repeating: 0, count: taps)
    for i in 0..<output {
      let center = low + (Double(i) + 0.5) * scale
      let first = Swift.max(0, Int((center - support - 0.5).rounded(.down)))
      let last = Swift.min(sourceSize - 1, Int((center + support - 0.5).rounded(.up)), first + taps - 1)
      var total = 0.0
      var count = 0
      if first <= last {
        for j in first...last {
          row[count] = Swift.max(0, 1 - abs((Double(j) + 0.5 - center) / widening))
          total += row[count]
          count += 1
        }
      }
      if total > 0 {
        starts[i] = first
        for k in 0..<count { weights[i * taps + k] = Float(row[k] / total) }
        counts[i] = count
      } else {  // a span outside the axis (not drawn by the transforms): the nearest pixel
        starts[i] = Swift.min(Swift.max(0, Int(center.rounded(.down))), sourceSize - 1)
        weights[i * taps] = 1
        counts[i] = 1
      }
    }
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
