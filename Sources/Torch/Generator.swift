import CTorch

/// A seeded random-number generator (libtorch's Philox/MT engines), for reproducible streams
/// that do not disturb the global ones. Its state can be saved and restored for exact resumes.
public final class Generator {
  let handle: OpaquePointer

  /// A new generator for `device`, seeded with `seed`.
  public init(seed: UInt64, device: Device = .cpu) throws {
    var out: OpaquePointer?
    try check(ctorch_gen_new(seed, device.code, &out))
    handle = out!
  }

  private init(handle: OpaquePointer) { self.handle = handle }

  /// The device's default generator (the one used when no generator is passed).
  public static func defaultGenerator(for device: Device) throws -> Generator {
    var out: OpaquePointer?
    try check(ctorch_gen_default(device.code, &out))
    return Generator(handle: out!)
  }

  deinit { ctorch_gen_free(handle) }

  /// The engine's full state as a uint8 tensor.
  public func state() throws -> Tensor { try make { ctorch_gen_get_state(handle, $0) } }

  public func setState(_ state: Tensor) throws { try check(ctorch_gen_set_state(handle, state.handle)) }

  public func seed(_ seed: UInt64) throws { try check(ctorch_gen_seed(handle, seed)) }
}
