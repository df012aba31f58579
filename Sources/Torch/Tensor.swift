import CTorch

/// An n-dimensional array on a device, backed by one libtorch tensor.
/// The libtorch tensor is released when the last Swift reference goes away.
public final class Tensor {
  let handle: OpaquePointer

  init(handle: OpaquePointer) { self.handle = handle }

  deinit { ctorch_tensor_free(handle) }

  // Properties of a live tensor cannot fail in libtorch; a failure here is a bug in the shim.
  private func property<T>(_ call: (UnsafeMutablePointer<T>) -> Int32, _ initial: T) -> T {
    var value = initial
    let status = call(&value)
    precondition(status == 0, "tensor property query failed: \(TorchError.last())")
    return value
  }

  public var rank: Int { Int(property({ ctorch_tensor_dim(handle, $0) }, Int64(0))) }

  public var shape: [Int] {
    var dims = [Int64](repeating: 0, count: rank)
    let status = dims.withUnsafeMutableBufferPointer { ctorch_tensor_shape(handle, $0.baseAddress, Int64($0.count)) }
    precondition(status == 0)
    return dims.map(Int.init)
  }

  public var strides: [Int] {
    var dims = [Int64](repeating: 0, count: rank)
    let status = dims.withUnsafeMutableBufferPointer { ctorch_tensor_strides(handle, $0.baseAddress, Int64($0.count)) }
    precondition(status == 0)
    return dims.map(Int.init)
  }

  public var count: Int { Int(property({ ctorch_tensor_numel(handle, $0) }, Int64(0))) }

  public var dtype: DType { DType(code: property({ ctorch_tensor_dtype(handle, $0) }, CT_FLOAT32)) }

  public var device: Device { Device(code: property({ ctorch_tensor_device(handle, $0) }, CT_CPU)) }

  public func isContiguous(_ format: MemoryFormat = .contiguous) -> Bool {
    property({ ctorch_tensor_is_contiguous(handle, format.code, $0) }, Int32(0)) != 0
  }

  /// All elements, converted to `T`, in row-major order (copied to the host).
  public func toArray<T: TensorScalar>(_ type: T.Type = T.self) throws -> [T] {
    var out = [T](repeating: T(), count: count)
    try out.withUnsafeMutableBytes { buffer in
      try check(ctorch_tensor_copy_out(handle, T.dtype.code, buffer.baseAddress, buffer.count))
    }
    return out
  }

  /// The value of a one-element tensor.
  public func item() throws -> Double {
    var v = 0.0
    try check(ctorch_tensor_item(handle, &v))
    return v
  }

  public func floatItem() throws -> Float { Float(try item()) }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    var buffer = [CChar](repeating: 0, count: 1 << 16)
    guard ctorch_tensor_description(handle, &buffer, buffer.count) == 0 else { return "Tensor(<unprintable>)" }
    return String(cString: buffer)
  }
}
