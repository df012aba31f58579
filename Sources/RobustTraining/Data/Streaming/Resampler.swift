import Foundation

/// A pixel a resampled image is written as: the byte itself, or a float in [0, 1] (byte / 255, the value the
/// trainer's batches hold).
protocol ResampledPixel {
  static func from(_ byte: UInt8) -> Self
}

extension UInt8: ResampledPixel {
  @inline(__always) static func from(_ byte: UInt8) -> UInt8 { byte }
}

extension Float: ResampledPixel {
  /// byte / 255 for every byte (a division per pixel costs as much as the rest of the resampling)
  private static let unitValues = (0...255).map { Float($0) / 255 }

  @inline(__always) static func from(_ byte: UInt8) -> Float { unitValues.withUnsafeBufferPointer { $0[Int(byte)] } }
}

/// Resamples a decoded window to the output square, rows first then columns (float sums, rounded to a byte
/// once at the end), writing planes (C, H, W) and mirroring the columns for a flipped sample. The rows pass
/// runs on 8 values at a time, the columns pass on one pixel's 3 channels at a time.
enum Resampler {
  /// The floats `resample` needs as scratch for `plan`.
  static func scratchCount(_ plan: DecodePlan) -> Int { (plan.window.height + 1) * stride(plan) + 8 }

  /// Floats per window row in the scratch: whole groups of 8.
  private static func stride(_ plan: DecodePlan) -> Int { (plan.window.width * 3 + 7) / 8 * 8 }

  /// `window`: the plan's window, interleaved RGB; `scratch`: `scratchCount(plan)` floats.
  static func resample<Pixel: ResampledPixel>(window: UnsafePointer<UInt8>, plan: DecodePlan, size: Int,
                                               scratch: UnsafeMutablePointer<Float>, into planes: UnsafeMutablePointer<Pixel>)
  {
    let (left, top, windowWidth, windowHeight) = plan.window
    let values = windowWidth * 3
    let stride = stride(plan)
    // the window as floats, each row padded with zeros to `stride`
    for r in 0..<windowHeight {
      let source = window + r * values
      let target = scratch + r * stride
      for i in 0..<values { target[i] = Float(source[i]) }
      for i in values..<stride { target[i] = 0 }
    }
    let sums = UnsafeMutableRawPointer(scratch + windowHeight * stride)
    let area = size * size
    plan.rows.starts.withUnsafeBufferPointer { rowStarts in
    plan.rows.counts.withUnsafeBufferPointer { rowCounts in
    plan.rows.weights.withUnsafeBufferPointer { rowWeights in
    plan.columns.starts.withUnsafeBufferPointer { columnStarts in
    plan.columns.counts.withUnsafeBufferPointer { columnCounts in
    plan.columns.weights.withUnsafeBufferPointer { columnWeights in
      for o in 0..<size {
        // rows: output row `o` of every window column
        for j in Swift.stride(from: 0, to: stride, by: 8) { sums.storeBytes(of: SIMD8<Float>(), toByteOffset: 4 * j, as: SIMD8<Float>.self) }
        for k in 0..<rowCounts[o] {
          let weight = SIMD8<Float>(repeating: rowWeights[o * plan.rows.taps + k])
          let row = UnsafeRawPointer(scratch + (rowStarts[o] - top + k) * stride)
          for j in Swift.stride(from: 0, to: stride, by: 8) {
            let sum = sums.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
              + weight * row.loadUnaligned(fromByteOffset: 4 * j, as: SIMD8<Float>.self)
            sums.storeBytes(of: sum, toByteOffset: 4 * j, as: SIMD8<Float>.self)
          }
        }
        // columns: the row's `size` pixels
        let line = planes + o * size
        for x in 0..<size {
          let first = 4 * 3 * (columnStarts[x] - left)
          var pixel = SIMD4<Float>()
          for k in 0..<columnCounts[x] {
            pixel += SIMD4<Float>(repeating: columnWeights[x * plan.columns.taps + k])
              * sums.loadUnaligned(fromByteOffset: first + 12 * k, as: SIMD4<Float>.self)
          }
          let column = plan.flip ? size - 1 - x : x
          line[column] = Pixel.from(quantize(pixel[0]))
          line[area + column] = Pixel.from(quantize(pixel[1]))
          line[2 * area + column] = Pixel.from(quantize(pixel[2]))
        }
      }
    }}}}}}
  }

  /// To the nearest byte (halves up), clamped to 0...255: floor(value + 0.5), as a truncation (no call to floor).
  @inline(__always) static func quantize(_ value: Float) -> UInt8 {
    let shifted = value + 0.5
    guard shifted > 0 else { return 0 }
    return shifted >= 255 ? 255 : UInt8(Int32(shifted))
  }
}
