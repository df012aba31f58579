import CTorch

enum BinaryOp: Int32 {
  case add = 0, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, and, or, remainder, atan2
}

enum UnaryOp: Int32 {
  case neg = 0, abs, sign, exp, log, sqrt, rsqrt, relu, sigmoid, tanh, floor, ceil, round, not, square,
    reciprocal, sin, cos, log1p, isFinite, isNaN, zero_, relu_
}

extension Tensor {
  func binary(_ op: BinaryOp, _ other: Tensor) throws -> Tensor {
    try make { ctorch_op_binary(op.rawValue, handle, other.handle, $0) }
  }
  func binary(_ op: BinaryOp, _ scalar: Double) throws -> Tensor {
    try make { ctorch_op_binary_scalar(op.rawValue, handle, scalar, $0) }
  }
  func unary(_ op: UnaryOp) throws -> Tensor { try make { ctorch_op_unary(op.rawValue, handle, $0) } }

  public static func + (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.add, b) }
  public static func - (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.sub, b) }
  public static func * (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.mul, b) }
  public static func / (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.div, b) }
  public static func + (a: Tensor, s: Double) throws -> Tensor { try a.binary(.add, s) }
  public static func - (a: Tensor, s: Double) throws -> Tensor { try a.binary(.sub, s) }
  public static func * (a: Tensor, s: Double) throws -> Tensor { try a.binary(.mul, s) }
  public static func / (a: Tensor, s: Double) throws -> Tensor { try a.binary(.div, s) }
  public static func + (s: Double, a: Tensor) throws -> Tensor { try a.binary(.add, s) }
  public static func * (s: Double, a: Tensor) throws -> Tensor { try a.binary(.mul, s) }
  public static func - (s: Double, a: Tensor) throws -> Tensor {
    try make { ctorch_op_rbinary_scalar(BinaryOp.sub.rawValue, s, a.handle, $0) }
  }
  public static func / (s: Double, a: Tensor) throws -> Tensor {
    try make { ctorch_op_rbinary_scalar(BinaryOp.div.rawValue, s, a.handle, $0) }
  }
  public static prefix func - (a: Tensor) throws -> Tensor { try a.unary(.neg) }

  // Elementwise comparisons give bool tensors.
  public static func .== (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.eq, b) }
  public static func .!= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.ne, b) }
  public static func .< (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.lt, b) }
  public static func .<= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.le, b) }
  public static func .> (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.gt, b) }
  public static func .>= (a: Tensor, b: Tensor) throws -> Tensor { try a.binary(.ge, b) }
  public static func .== (a: Tensor, s: Double) throws -> Tensor { try a.binary(.eq, s) }
  public static func .!= (a: Tensor, s: Double) throws -> Tensor { try a.binary(.ne, s) }
  public static func .< (a: Tensor, s: Double) throws -> Tensor { try a.binary(.lt, s) }
  public static func .<= (a: Tensor, s: Double) throws -> Tensor { try a.binary(.le, s) }
  public static func .> (a: Tensor, s: Double) throws -> Tensor { try a.binary(.gt, s) }
  public static func .>= (a: Tensor, s: Double) throws -> Tensor { try a.binary(.ge, s) }

  public func pow(_ exponent: Double) throws -> Tensor { try binary(.pow, exponent) }
  public func pow(_ exponent: Tensor) throws -> Tensor { try binary(.pow, exponent) }
  public func remainder(_ divisor: Double) throws -> Tensor { try binary(.remainder, divisor) }
  public func logicalAnd(_ other: Tensor) throws -> Tensor { try binary(.and, other) }
  public func logicalOr(_ other: Tensor) throws -> Tensor { try binary(.or, other) }
  public func logicalNot() throws -> Tensor { try unary(.not) }

  public func abs() throws -> Tensor { try unary(.abs) }
  public func sign() throws -> Tensor { try unary(.sign) }
  public func exp() throws -> Tensor { try unary(.exp) }
  public func log() throws -> Tensor { try unary(.log) }
  public func log1p() throws -> Tensor { try unary(.log1p) }
  public func sqrt() throws -> Tensor { try unary(.sqrt) }
  public func rsqrt() throws -> Tensor { try unary(.rsqrt) }
  public func square() throws -> Tensor { try unary(.square) }
  public func reciprocal() throws -> Tensor { try unary(.reciprocal) }
  public func relu() throws -> Tensor { try unary(.relu) }
  public func sigmoid() throws -> Tensor { try unary(.sigmoid) }
  public func tanh() throws -> Tensor { try unary(.tanh) }
  public func sin() throws -> Tensor { try unary(.sin) }
  public func cos() throws -> Tensor { try unary(.cos) }
  public func floor() throws -> Tensor { try unary(.floor) }
  public func ceil() throws -> Tensor { try unary(.ceil) }
  public func rounded() throws -> Tensor { try unary(.round) }
  public func isFinite() throws -> Tensor { try unary(.isFinite) }
  public func isNaN() throws -> Tensor { try unary(.isNaN) }

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

  public func maximum(_ other: Tensor) throws -> Tensor { try binary(.maximum, other) }
  public func minimum(_ other: Tensor) throws -> Tensor { try binary(.minimum, other) }

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
  public func sub_(_ other: Tensor) throws { try check(ctorch_op_binary_(BinaryOp.sub.rawValue, handle, other.handle)) }
  public func mul_(_ other: Tensor) throws { try check(ctorch_op_binary_(BinaryOp.mul.rawValue, handle, other.handle)) }
  public func div_(_ other: Tensor) throws { try check(ctorch_op_binary_(BinaryOp.div.rawValue, handle, other.handle)) }
  public func add_(_ s: Double) throws { try check(ctorch_op_binary_scalar_(BinaryOp.add.rawValue, handle, s)) }
  public func mul_(_ s: Double) throws { try check(ctorch_op_binary_scalar_(BinaryOp.mul.rawValue, handle, s)) }
  public func copy_(_ source: Tensor) throws { try check(ctorch_op_copy_(handle, source.handle)) }
  public func fill_(_ value: Double) throws { try check(ctorch_op_fill_(handle, value)) }
  public func zero_() throws { _ = try unary(.zero_) }
  public func clamp_(min lo: Double, max hi: Double) throws { try check(ctorch_op_clamp_(handle, lo, hi)) }
  public func uniform_(low: Double, high: Double, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ctorch_op_uniform_(handle, low, high, generator?.handle)) }
  }
  public func normal_(mean: Double = 0, std: Double = 1, generator: Generator? = nil) throws {
    try withExtendedLifetime(generator) { try check(ctorch_op_normal_(handle, mean, std, generator?.handle)) }
  }
}
