import CTorch

/// The gradient all-reduce overlapped with the backward pass (PyTorch DDP's reducer): `parameters` are
/// grouped in buckets of about `bucketBytes` (the first at most 1 MiB; in reverse order, the order backward
/// produces them); while a slot is armed, each parameter's gradient, as autograd computes it, is copied
/// times `scale` into its bucket, and a complete bucket starts its asynchronous all-reduce at once (buckets
/// start in the same order on every rank). `finish` waits and returns the sums. Each slot has its own buffers, so one slot's
/// all-reduce runs under the next gradient's backward pass.
public final class GradientReducer {
  let handle: OpaquePointer
  public let group: ProcessGroup
  public let parameters: [Tensor]
  public let bucketCount: Int

  public init(group: ProcessGroup, parameters: [Tensor], bucketBytes: Int, slots: Int) throws {
    var out: OpaquePointer?
    try withHandles(parameters) { handles in
      try check(ctorch_reducer_new(group.handle, handles, Int64(parameters.count), Int64(bucketBytes), Int32(slots), &out))
    }
    handle = out!
    var count: Int64 = 0
    try check(ctorch_reducer_bucket_count(handle, &count))
    self.group = group
    self.parameters = parameters
    bucketCount = Int(count)
  }

  deinit { ctorch_reducer_free(handle) }

  /// The gradients autograd computes until `disarm` go to `slot`, times `scale`.
  public func arm(slot: Int, scale: Double) throws { try check(ctorch_reducer_arm(handle, Int32(slot), scale)) }

  public func disarm() throws { try check(ctorch_reducer_disarm(handle)) }

  /// How many of `slot`'s buckets have started their all-reduce in the current pass (all of them, by the end
  /// of a backward pass that reached every parameter).
  public func startedBuckets(slot: Int) throws -> Int {
    var out: Int64 = 0
    try check(ctorch_reducer_started(handle, Int32(slot), &out))
    return Int(out)
  }

  /// Computes `body` (the backward pass) with `slot` armed.
  public func capturing<R>(slot: Int, scale: Double, _ body: () throws -> R) throws -> R {
    try arm(slot: slot, scale: scale)
    defer { try? disarm() }
    return try body()
  }

  /// Waits for `slot`'s all-reduces (starting those whose gradients never came, as zeros) and returns each
  /// parameter's sum over ranks: views of the slot's buffers, overwritten by its next pass.
  public func finish(slot: Int) throws -> [Tensor] {
    var results = [OpaquePointer?](repeating: nil, count: parameters.count)
    try check(results.withUnsafeMutableBufferPointer { ctorch_reducer_finish(handle, Int32(slot), $0.baseAddress) })
    return results.map { Tensor(handle: $0!) }
  }
}
