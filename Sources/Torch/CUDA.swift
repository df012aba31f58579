import CTorch

/// CUDA support, loaded at run time so that the same binary runs on CPU-only machines.
public enum CUDA {
  /// Loads libtorch's CUDA kernels. Throws with the loader's reason when that is impossible.
  public static func load() throws { try check(ctorch_cuda_load()) }

  public static var isAvailable: Bool { ctorch_cuda_is_available() != 0 }

  public static var deviceCount: Int { Int(ctorch_cuda_device_count()) }

  public static func deviceName(_ device: Int = 0) throws -> String {
    var buffer = [CChar](repeating: 0, count: 512)
    try check(ctorch_cuda_device_name(Int32(device), &buffer, buffer.count))
    return String(cString: buffer)
  }

  /// The CUDA runtime version as an integer (e.g. 13000).
  public static func runtimeVersion() throws -> Int {
    var v: Int32 = 0
    try check(ctorch_cuda_runtime_version(&v))
    return Int(v)
  }

  /// Waits for all queued work on `device`.
  public static func synchronize(_ device: Int = 0) throws { try check(ctorch_cuda_synchronize(Int32(device))) }

  public struct MemoryStats: Sendable {
    public let allocatedBytes: Int
    public let peakAllocatedBytes: Int
    public let reservedBytes: Int
  }

  public static func memoryStats(_ device: Int = 0) throws -> MemoryStats {
    var a: Int64 = 0
    var p: Int64 = 0
    var r: Int64 = 0
    try check(ctorch_cuda_memory_stats(Int32(device), &a, &p, &r))
    return MemoryStats(allocatedBytes: Int(a), peakAllocatedBytes: Int(p), reservedBytes: Int(r))
  }

  public static func resetPeakMemory(_ device: Int = 0) throws { try check(ctorch_cuda_reset_peak(Int32(device))) }

  /// cuDNN autotuning of convolution algorithms (PyTorch's `torch.backends.cudnn.benchmark`).
  public static func setCuDNNBenchmark(_ on: Bool) throws { try check(ctorch_set_cudnn_benchmark(on ? 1 : 0)) }

  /// TF32 tensor-core arithmetic for fp32 CUDA convolutions and matmuls. PyTorch's defaults, kept here:
  /// convolutions on (`torch.backends.cudnn.allow_tf32`), matmuls off (`torch.backends.cuda.matmul.allow_tf32`).
  /// Both off gives IEEE fp32, as needed to compare logits with another implementation to 1e-4.
  public static func setTF32(convolutions: Bool, matmuls: Bool) throws {
    try check(ctorch_set_cuda_tf32(convolutions ? 1 : 0, matmuls ? 1 : 0))
  }

  public static func tf32() throws -> (convolutions: Bool, matmuls: Bool) {
    var convolutions: Int32 = 0
    var matmuls: Int32 = 0
    try check(ctorch_get_cuda_tf32(&convolutions, &matmuls))
    return (convolutions != 0, matmuls != 0)
  }

  /// `tensor` (on the host) copied to CUDA `device` on a side stream: the device's current stream waits for the
  /// copy before the work queued after this call, while the copy overlaps the work queued before it; from pinned
  /// memory (`Tensor.writable(..., pinned: true)`) the host does not wait either.
  public static func copyOnSideStream(_ tensor: Tensor, to device: Device) throws -> Tensor {
    try make { ctorch_cuda_copy_on_side_stream(tensor.handle, device.code, $0) }
  }
}
