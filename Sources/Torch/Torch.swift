import CTorch

/// Library-wide settings and facts about the engine.
public enum Torch {
  /// The libtorch version the shim was built against, e.g. "2.11.0".
  public static var version: String { String(cString: ctorch_version()) }

  /// Tensor handles alive right now (for leak tests).
  public static var liveTensorCount: Int { Int(ctorch_live_tensors()) }

  /// How many calls so far would make the host wait for a GPU: reading values back (`toArray`, `item`,
  /// `description`), copies between the host and a GPU, and indexing with a boolean mask (its result's size
  /// depends on the data). Counted on the CPU too, so a test can show that a code path has none.
  public static var hostWaitCount: Int { Int(ctorch_host_waits()) }

  /// Seeds the default generators of the CPU and of every loaded CUDA device.
  public static func manualSeed(_ seed: UInt64) { ctorch_manual_seed(seed) }

  public static var threadCount: Int { Int(ctorch_get_num_threads()) }

  public static func setThreadCount(_ n: Int) throws { try check(ctorch_set_num_threads(Int32(n))) }

  /// Runs `body` with automatic mixed precision for `device`'s kind (bf16 by default).
  public static func withAutocast<R>(device: Device, dtype: DType = .bfloat16, enabled: Bool = true,
                                     _ body: () throws -> R) throws -> R
  {
    guard enabled else { return try body() }
    let kind = device.typeCode
    try check(ctorch_autocast_enter(kind, dtype.code))
    defer { _ = ctorch_autocast_exit(kind) }
    return try body()
  }
}
