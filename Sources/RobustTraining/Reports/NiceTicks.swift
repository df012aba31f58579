import Foundation

/// Axis ticks at "nice" values (1, 2, 2.5 or 5 times a power of ten) covering a data range.
public struct NiceTicks: Equatable, Sendable {
  public let values: [Double]
  public let step: Double
  /// The axis range: the data range widened to the outermost ticks.
  public var lower: Double { values.first ?? 0 }
  public var upper: Double { values.last ?? 1 }

  /// About `target` ticks, at least `minimumStep` apart, (never fewer than 2) spanning `minimum...maximum`.
  public init(minimum: Double, maximum: Double, target: Int = 5, minimumStep: Double = 0) {
    var lo = Swift.min(minimum, maximum), hi = Swift.max(minimum, maximum)
    if !lo.isFinite || !hi.isFinite { (lo, hi) = (0, 1) }
    if hi - lo < 1e-12 * Swift.max(1, abs(hi)) {
      let pad = lo == 0 ? 1 : abs(lo) * 0.1
      (lo, hi) = (lo - pad, hi + pad)
    }
    var step = Swift.max(Self.niceStep((hi - lo) / Double(Swift.max(target - 1, 1))), minimumStep)
    // Whole-number axes (epochs, iterations) read 0, 20, 40 better than 0, 25, 50 with 2.5 in between.
    if minimumStep >= 1, Self.mantissa(step) == 2.5 { step *= 0.8 }
    let first = (lo / step + 1e-9).rounded(.down)
    let last = (hi / step - 1e-9).rounded(.up)
    var values = [Double]()
    var k = first
    while k <= last {
      // Multiplying (not accumulating) keeps 0.1 * 3 from drifting to 0.30000000000000004 ticks.
      let v = k * step
      values.append(abs(v) < step * 1e-9 ? 0 : v)
      k += 1
    }
    self.values = values
    self.step = step
  }

  /// 2.5 for 0.25 or 250.
  static func mantissa(_ step: Double) -> Double {
    let m = step / pow(10, (log10(step) + 1e-9).rounded(.down))
    return (m * 1e6).rounded() / 1e6
  }

  static func niceStep(_ raw: Double) -> Double {
    let magnitude = pow(10, (log10(raw)).rounded(.down))
    let fraction = raw / magnitude
    let nice: Double = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10
    return nice * magnitude
  }

  /// A tick label with just enough decimals for this step ("0.25", "1e-04" for tiny or huge values).
  public func label(_ v: Double) -> String {
    if v == 0 { return "0" }
    let scale = Swift.max(abs(lower), abs(upper))
    if scale >= 1e5 || scale < 1e-3 { return Self.typographicMinus(String(format: "%.2g", v)) }
    let decimals = Swift.max(0, Int((-log10(step) - 1e-9).rounded(.up)) + (Self.mantissa(step) == 2.5 ? 1 : 0))
    return Self.typographicMinus(String(format: "%.\(Swift.min(decimals, 6))f", v))
  }

  /// "−0.5" with the minus sign, which is as wide as a digit and easier to tell from a dash.
  static func typographicMinus(_ s: String) -> String { s.hasPrefix("-") ? "\u{2212}" + s.dropFirst() : s }
}
