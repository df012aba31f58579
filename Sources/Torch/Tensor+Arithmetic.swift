import CTorch

extension Tensor {
  func binary(_ op: ctorch_binary_op, _ other: Tensor) throws -> Tensor {
    try make { ctorch_op_binary(op, handle, other.handle, $0) }
  }
  func binary(_ op: ctorch_binary_op, _ scalar: Double) throws -> Tensor {
    try make { ctorch_op_binary_scalar(op, handle, scalar, $0) }
  }
  func unary(_ op: ctorch_unary_op) throws -> Tensor { try make { ctorch_op_unary(op, handle, $0) } }

  public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_ADD, b) }
  public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_SUB, b) }
  public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_MUL, b) }
  public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_DIV, b) }
  public static func + (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_ADD, s) }
  public static func - (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_SUB, s) }
  public static func * (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_MUL, s) }
  public static func / (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_DIV, s) }
  public static func + (s: Double, a: Tensor) throws -> Tensor { try a.binary(CT_ADD, s) }
  public static func * (s: Double, a: Tensor) throws -> Tensor { try a.binary(CT_MUL, s) }
  public static func - (s: Double, a: Tensor) throws -> Tensor {
    try make { ctorch_op_rbinary_scalar(CT_SUB, s, a.handle, $0) }
  }
  public static func / (s: Double, a: Tensor) throws -> Tensor {
    try make { ctorch_op_rbinary_scalar(CT_DIV, s, a.handle, $0) }
  }
  public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(CT_NEG) }

  // Elementwise comparisons give bool tensors.
  public static func .== (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_EQ, b) }
  public static func .!= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_NE, b) }
  public static func .< (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_LT, b) }
  public static func .<= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_LE, b) }
  public static func .> (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_GT, b) }
  public static func .>= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(CT_GE, b) }
  public static func .== (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_EQ, s) }
  public static func .!= (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_NE, s) }
  public static func .< (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_LT, s) }
  public static func .<= (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_LE, s) }
  public static func .> (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_GT, s) }
  public static func .>= (a: Tensor, s: Double) throws -> Tensor { try a.binary(CT_GE, s) }

  public func pow(_ exponent: Double) throws -> Tensor { try binary(CT_POW, exponent) }
  public func pow(_ exponent: Tensor) throws -> Tensor { try binary(CT_POW, exponent) }
  public func remainder(_ divisor: Double) throws -> Tensor { try binary(CT_REMAINDER, divisor) }
  public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(CT_AND, other) }
  public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(CT_OR, other) }
  public func logicalNot() throws -> Tensor { try unary(CT_NOT) }

  public func abs() throws -> Tensor { try unary(CT_ABS) }
  public func sign() throws -> Tensor { try unary(CT_SIGN) }
  public func exp() throws -> Tensor { try unary(CT_EXP) }
  public func log() throws -> Tensor { try unary(CT_LOG) }
  public func log1p() throws -> Tensor { try unary(CT_LOG1P) }
  public func sqrt() throws -> Tensor { try unary(CT_SQRT) }
  public func rsqrt() throws -> Tensor { try unary(CT_RSQRT) }
  public func square() throws -> Tensor { try unary(CT_SQUARE) }
  public func reciprocal() throws -> Tensor { try unary(CT_RECIPROCAL) }
  public func relu() throws -> Tensor { try unary(CT_RELU) }
  public func sigmoid() throws -> Tensor { try unary(CT_SIGMOID) }
  public func tanh() throws -> Tensor { try unary(CT_TANH) }
  public func sin() throws -> Tensor { try unary(CT_SIN) }
  public func cos() throws -> Tensor { try unary(CT_COS) }
  public func floor() throws -> Tensor { try unary(CT_FLOOR) }
  public func ceil() throws -> Tensor { try unary(CT_CEIL) }
  public func rounded() throws -> Tensor { try unary(CT_ROUND) }
  public func isFinite() throws -> Tensor { try unary(CT_ISFINITE) }
  public func isNaN() throws -> Tensor { try unary(CT_ISNAN) }

  public func softplus(beta: Double = 1, threshold: Double = 20) throws -> Tensor {
    try make { ctorch_op_softplus(handle, beta, threshold, $0) }
  }

  public func clamped(min lo: Double? = nil, max hi: Double? = nil) throws -> Tensor {
    try make { ctorch_op_clamp(handle, lo ?? 0, hi ?? 0, lo == nil ? 0 : 1, hi == nil ? 0 : 1, $0) }
  }

  /// Clamps elementwise between two tensors (either may be nil).
  public func clamped(min lo: Tensor?, max hi: Tensor?) throws -> Tensor {
    try withExtendedLifetime((lo, hi)) {
      try make { ctorch_op_clamp_tensor(handle, lo?.handle, hi?.handle, $0) }
    }
  }

  public func maximum(_ other: Tensor) throws -> Tensor { try binary(CT_MAXIMUM, other) }
  public func minimum(_ other: Tensor) throws -> Tensor { try binary(CT_MINIMUM, other) }

  /// `self + alpha * other`.
  public func adding(_ other: Tensor, scaledBy alpha: Double) throws -> Tensor {
    try make { ctorch_op_add_scaled(handle, other.handle, alpha, $0) }
  }

  /// `self + w * (end - self)`.
  public func lerp(to end: Tensor, weight: Double) throws -> Tensor {
    try make { ctorch_op_lerp(handle, end.handle, weight, $0) }
  }

  public func maskedFill(_ mask: Tensor, _ value: Double) throws -> Tensor {
    try make { ctorch_op_masked_fill(handle, mask.handle, value, $0) }
  }

  /// `condition ? a : b`, elementwise.
  public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
    try make { ctorch_op_where(condition.handle, a.handle, b.handle, $0) }
  }

  public func matmul(_ other: Tensor) throws -> Tensor { try make { ctorch_op_matmul(handle, other.handle, $0) } }

  public func allClose(_ other: Tensor, rtol: Double = 1e-5, atol: Double = 1e-8) throws -> Bool {
    var out: Int32 = 0
    try check(ctorch_op_allclose(handle, other.handle, rtol, atol, &out))
    return out != 0
  }

  // MARK: in place (the tensor object keeps its identity; autograd sees the update)

  public func add_(_ other: Tensor, alpha: Double = 1) throws { try check(ctorch_op_add_scaled_(handle, other.handle, alpha)) }
  public func sub_(_ other: Tensor) throws { try check(ctorch_op_binary_(CT_SUB, handle, other.handle)) }
  public func mul_(_ other: Tensor) throws { try check(ctorch_op_binary_(CT_MUL, handle, other.handle)) }
  public func div_(_ other: Tensor) throws { try check(ctorch_op_binary_(CT_DIV, handle, other.handle)) }
  public func add_(_ s: Double) throws { try check(ctorch_op_binary_scalar_(CT_ADD, handle, s)) }
  public func mul_(_ s: Double) throws { try check(ctorch_op_binary_scalar_(CT_MUL, handle, s)) }
  public func copy_(_ source: Tensor) throws { try check(ctorch_op_copy_(handle, source.handle)) }
  public func fill_(_ value: Double) throws { try check(ctorch_op_fill_(handle, value)) }
  public func zero_() throws { _ = try unary(CT_ZERO_) }
  public func clamp_(min lo: Double, max hi: Double) throws { try check(ctorch_op_clamp_(handle, lo, hi)) }
  public func uniform_(low: Double, high: Double, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ctorch_op_uniform_(handle, low, high, generator?.handle)) }
  }
  public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ctorch_op_normal_(handle, mean, std, generator?.handle)) }
  }
}
