import CTorch

extension Tensor {
  /// A tensor holding a copy of `values`, shaped `shape` (default: 1-D).
  public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil, device: Device = .cpu) throws {
    let shape = shape ?? [values.count]
    guard shape.reduce(1, *) == values.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw TorchError("cannot shape \(values.count) values as \(shape)")
    }
    let dims = shape.map(Int64.init)
    var out: OpaquePointer?
    let status = values.withUnsafeBytes { buffer in
      ctorch_make_from_data(buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 8)!, T.dtype.code, dims,
                            Int64(dims.count), device.code, &out)
    }
    try check(status)
    self.init(handle: out!)
  }

  /// A 0-dimensional tensor.
  public convenience init(scalar: Double, dtype: DType = .float32, device: Device = .cpu) throws {
    var out: OpaquePointer?
    try check(ctorch_make_full(nil, 0, scalar, dtype.code, device.code, &out))
    self.init(handle: out!)
  }

  public static func full(_ shape: [Int], _ value: Double, dtype: DType = .float32, device: Device = .cpu) throws
    -> Tensor
  {
    let dims = shape.map(Int64.init)
    return try make { ctorch_make_full(dims, Int64(dims.count), value, dtype.code, device.code, $0) }
  }

  public static func zeros(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try full(shape, 0, dtype: dtype, device: device)
  }

  public static func ones(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu) throws -> Tensor {
    try full(shape, 1, dtype: dtype, device: device)
  }

  public static func arange(_ start: Double = 0, _ end: Double, step: Double = 1, dtype: DType = .int64,
                            device: Device = .cpu) throws -> Tensor
  {
    try make { ctorch_make_arange(start, end, step, dtype.code, device.code, $0) }
  }

  /// Uniform samples in [0, 1).
  public static func rand(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                          generator: Generator? = nil) throws -> Tensor
  {
    try random(shape, normal: false, dtype: dtype, device: device, generator: generator)
  }

  /// Standard normal samples.
  public static func randn(_ shape: [Int], dtype: DType = .float32, device: Device = .cpu,
                           generator: Generator? = nil) throws -> Tensor
  {
    try random(shape, normal: true, dtype: dtype, device: device, generator: generator)
  }

  /// Uniform samples in [low, high).
  public static func uniform(_ shape: [Int], low: Double, high: Double, dtype: DType = .float32,
                             device: Device = .cpu, generator: Generator? = nil) throws -> Tensor
  {
    let t = try Tensor.empty(shape, dtype: dtype, device: device)
    try t.uniform_(low: low, high: high, generator: generator)
    return t
  }

  /// Integers drawn uniformly from [low, high).
  public static func randint(_ low: Int, _ high: Int, _ shape: [Int], device: Device = .cpu,
                             generator: Generator? = nil) throws -> Tensor
  {
    let dims = shape.map(Int64.init)
    return try withExtendedLifetime(generator) {
      try make { ctorch_make_randint(Int64(low), Int64(high), dims, Int64(dims.count), device.code, generator?.handle, $0) }
    }
  }

  /// A random permutation of 0..<n.
  public static func randperm(_ n: Int, device: Device = .cpu, generator: Generator? = nil) throws -> Tensor {
    try withExtendedLifetime(generator) {
      try make { ctorch_make_randperm(Int64(n), device.code, generator?.handle, $0) }
    }
  }

  /// A new contiguous CPU tensor whose bytes `body` writes in place, for loaders that would otherwise hold
  /// their data twice (in an array, then in the tensor's copy). Package-internal: the pointer must not
  /// outlive `body`.
  package static func filled(_ shape: [Int], dtype: DType, _ body: (UnsafeMutableRawBufferPointer) throws -> Void)
    throws -> Tensor
  {
    let tensor = try zeros(shape, dtype: dtype)
    var data: UnsafeMutableRawPointer?
    var bytes = 0
    try check(ctorch_tensor_host_data(tensor.handle, &data, &bytes))
    try body(UnsafeMutableRawBufferPointer(start: data, count: bytes))
    return tensor
  }

  /// A new contiguous CPU tensor of zeros and its bytes, for loaders whose threads fill a batch in place
  /// (several at once, each its own rows). Package-internal: the bytes must not be written once the tensor is
  /// handed on.
  /// `pinned`: in page-locked memory, which CUDA copies from asynchronously (needs CUDA loaded).
  package static func writable(_ shape: [Int], dtype: DType, pinned: Bool = false) throws
    -> (tensor: Tensor, bytes: UnsafeMutableRawBufferPointer)
  {
    let dims = shape.map(Int64.init)
    let tensor = pinned ? try make { ctorch_make_pinned_zeros(dims, Int64(dims.count), dtype.code, $0) } : try zeros(shape, dtype: dtype)
    var data: UnsafeMutableRawPointer?
    var bytes = 0
    try check(ctorch_tensor_host_data(tensor.handle, &data, &bytes))
    return (tensor, UnsafeMutableRawBufferPointer(start: data, count: bytes))
  }

  static func empty(_ shape: [Int], dtype: DType, device: Device) throws -> Tensor {
    try full(shape, 0, dtype: dtype, device: device)
  }

  private static func random(_ shape: [Int], normal: Bool, dtype: DType, device: Device, generator: Generator?) throws
    -> Tensor
  {
    let dims = shape.map(Int64.init)
    return try withExtendedLifetime(generator) {
      try make {
        ctorch_make_rand(dims, Int64(dims.count), normal ? 1 : 0, dtype.code, device.code, generator?.handle, $0)
      }
    }
  }

  /// A tensor of this one's shape, dtype and device, filled with `value`.
  public func fullLike(_ value: Double) throws -> Tensor { try make { ctorch_make_like(handle, value, CT_LIKE_FULL, $0) } }
  public func zerosLike() throws -> Tensor { try fullLike(0) }
  public func onesLike() throws -> Tensor { try fullLike(1) }
}
