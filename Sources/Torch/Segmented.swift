import CTorch

/// Operations on 1-D tensors made of consecutive segments (several tensors packed end to end).
extension Tensor {
  /// `out[i]` = the sum of the i-th run of `lengths[i]` consecutive entries of this 1-D tensor.
  /// `lengths` is an int64 tensor on this tensor's device; keep it between calls so that nothing is
  /// copied from the host and nothing waits for the device.
  public func segmentSum(lengths: Tensor) throws -> Tensor {
    try make { ctorch_segment_sum(handle, lengths.handle, $0) }
  }

  /// Entry `i` of this 1-D tensor repeated `repeats[i]` times. `outputSize` must be the sum of
  /// `repeats`: given, the size is not read back from the device.
  public func repeatInterleaved(_ repeats: Tensor, outputSize: Int) throws -> Tensor {
    try make { ctorch_repeat_interleave(handle, repeats.handle, Int64(outputSize), $0) }
  }
}
