/// Exact conversions between 16-bit float bit patterns and Float (the `Tensor` host API only
/// moves Float, so bf16/f16 tensors travel as float32, which holds every 16-bit value exactly).
enum HalfPrecisionBits {
  static func bfloat16ToFloat(_ bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

  /// Assumes `value` came from a bfloat16 (its low 16 bits are zero).
  static func floatToBFloat16(_ value: Float) -> UInt16 { UInt16(truncatingIfNeeded: value.bitPattern >> 16) }

  static func float16ToFloat(_ bits: UInt16) -> Float {
    let sign = UInt32(bits & 0x8000) << 16
    let exponent = Int((bits >> 10) & 0x1f)
    let fraction = UInt32(bits & 0x3ff)
    switch exponent {
    case 0:
      // Zero or subnormal: fraction * 2^-24, exact in Float.
      let magnitude = Float(fraction) * 0x1p-24
      return sign != 0 ? -magnitude : magnitude
    case 0x1f:
      return Float(bitPattern: sign | 0x7f80_0000 | (fraction << 13))
    default:
      return Float(bitPattern: sign | UInt32(exponent - 15 + 127) << 23 | (fraction << 13))
    }
  }

  /// Assumes `value` came from a float16, so it is representable exactly.
  static func floatToFloat16(_ value: Float) -> UInt16 {
    let bits = value.bitPattern
    let sign = UInt16(truncatingIfNeeded: (bits >> 16) & 0x8000)
    let exponent = Int((bits >> 23) & 0xff)
    let fraction = bits & 0x7f_ffff
    if exponent == 0xff { return sign | 0x7c00 | UInt16(truncatingIfNeeded: fraction >> 13) | (fraction != 0 ? 0x200 : 0) }
    let halfExponent = exponent - 127 + 15
    if halfExponent >= 0x1f { return sign | 0x7c00 }
    if halfExponent <= 0 {
      // Subnormal half: value = m * 2^-24.
      let magnitude = Swift.abs(value) * 0x1p24
      return sign | UInt16(magnitude.rounded())
    }
    return sign | UInt16(halfExponent) << 10 | UInt16(truncatingIfNeeded: fraction >> 13)
  }
}
