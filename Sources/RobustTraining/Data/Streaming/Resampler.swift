import Foundation

/// Resamples a decoded window to the output square, columns first then rows (float sums, rounded once at the
/// end), writing planes (C, H, W) and mirroring the columns for a flipped sample.
enum Resampler {
  /// `window`: the plan's window, interleaved RGB; `scratch`: `plan.window.height * size * 3` floats.
  static func resample(window: UnsafePointer<UInt8>, plan: DecodePlan, size: Int, scratch: UnsafeMutablePointer<Float>,
                       into planes: UnsafeMutablePointer<UInt8>)
  {
    let (left, top, windowWidth, windowHeight) = plan.window
    let columns = plan.columns
    let rows = plan.rows
    // columns: every window row to `size` columns
    columns.weights.withUnsafeBufferPointer { weights in
      for r in 0..<windowHeight {
        let source = window + r * windowWidth * 3
        let target = scratch + r * size * 3
        for o in 0..<size {
          let start = (columns.starts[o] - left) * 3
          let w = weights.baseAddress! + o * columns.taps
          var (red, green, blue): (Float, Float, Float) = (0, 0, 0)
          for k in 0..<columns.counts[o] {
            let p = source + start + 3 * k
            red += w[k] * Float(p[0])
            green += w[k] * Float(p[1])
            blue += w[k] * Float(p[2])
          }
          target[3 * o] = red
          target[3 * o + 1] = green
          target[3 * o + 2] = blue
        }
      }
    }
    // rows: `size` output rows, each a weighted sum of scratch rows
    let area = size * size
    var sums = [Float](repeating: 0, count: size * 3)
    rows.weights.withUnsafeBufferPointer { weights in
      sums.withUnsafeMutableBufferPointer { sums in
        for o in 0..<size {
          for c in 0..<size * 3 { sums[c] = 0 }
          let w = weights.baseAddress! + o * rows.taps
          for k in 0..<rows.counts[o] {
            let row = scratch + (rows.starts[o] - top + k) * size * 3
            let weight = w[k]
            for c in 0..<size * 3 { sums[c] += weight * row[c] }
          }
          let line = o * size
          for x in 0..<size {
            let column = plan.flip ? size - 1 - x : x
            for channel in 0..<3 {
              planes[channel * area + line + column] = quantize(sums[3 * x + channel])
            }
          }
        }
      }
    }
  }

  /// To the nearest byte (halves up), clamped to 0...255.
  @inline(__always) static func quantize(_ value: Float) -> UInt8 {
    UInt8(Swift.min(255, Swift.max(0, (value + 0.5).rounded(.down))))
  }
}
