import CTorch

/// Operations over many tensors at once (PyTorch's `torch._foreach_*`): one call, no host
/// synchronisation per tensor, and per-tensor scalars that stay on the device.
public enum Foreach {
  /// The p-norm of each tensor, as a 1-D tensor with one entry per tensor.
  public static func norms(_ tensors: [Tensor], p: Double = 2) throws -> Tensor {
    try withHandles(tensors) { h in try make { ctorch_foreach_norm(h, Int64(tensors.count), p, $0) } }
  }

  /// `<a[i], b[i]>` for each pair, as a 1-D tensor.
  public static func dots(_ a: [Tensor], _ b: [Tensor]) throws -> Tensor {
    guard a.count == b.count else { throw TorchError("foreach dots: \(a.count) vs \(b.count) tensors") }
    return try withHandles(a) { ha in
      try withHandles(b) { hb in try make { ctorch_foreach_dot(ha, hb, Int64(a.count), $0) } }
    }
  }

  /// `a[i] + alpha * b[i]` for each pair.
  public static func add(_ a: [Tensor], _ b: [Tensor], alpha: Double = 1) throws -> [Tensor] {
    guard a.count == b.count else { throw TorchError("foreach add: \(a.count) vs \(b.count) tensors") }
    return try withHandles(a) { ha in
      try withHandles(b) { hb in try makeList(count: a.count) { ctorch_foreach_add(ha, hb, Int64(a.count), alpha, $0) } }
    }
  }

  /// `a[i] * scales[i]`, with `scales` a 1-D tensor holding one factor per tensor.
  public static func mul(_ a: [Tensor], scales: Tensor) throws -> [Tensor] {
    try withHandles(a) { ha in
      try makeList(count: a.count) { ctorch_foreach_mul_tensor(ha, Int64(a.count), scales.handle, $0) }
    }
  }

  /// `a[i] += alpha * b[i]`, in place.
  public static func add_(_ a: [Tensor], _ b: [Tensor], alpha: Double = 1) throws {
    guard a.count == b.count else { throw TorchError("foreach add_: \(a.count) vs \(b.count) tensors") }
    try withHandles(a) { ha in try withHandles(b) { hb in try check(ctorch_foreach_add_(ha, hb, Int64(a.count), alpha)) } }
  }

  public static func mul_(_ a: [Tensor], _ s: Double) throws {
    try withHandles(a) { try check(ctorch_foreach_mul_scalar_($0, Int64(a.count), s)) }
  }

  public static func zero_(_ a: [Tensor]) throws {
    try withHandles(a) { try check(ctorch_foreach_zero_($0, Int64(a.count))) }
  }

  public static func copy_(_ destination: [Tensor], from source: [Tensor]) throws {
    guard destination.count == source.count else { throw TorchError("foreach copy_: count mismatch") }
    try withHandles(destination) { hd in
      try withHandles(source) { hs in try check(ctorch_foreach_copy_(hd, hs, Int64(source.count))) }
    }
  }
}
