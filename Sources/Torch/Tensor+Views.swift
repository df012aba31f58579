import CTorch

extension Tensor {
  public func to(_ dtype: DType) throws -> Tensor {
    if dtype == self.dtype { return self }
    return try make { ctorch_op_to(handle, dtype.code, device.code, 0, $0) }
  }

  public func to(_ device: Device) throws -> Tensor {
    if device == self.device { return self }
    return try make { ctorch_op_to(handle, dtype.code, device.code, 0, $0) }
  }

  public func to(_ device: Device, _ dtype: DType) throws -> Tensor {
    try make { ctorch_op_to(handle, dtype.code, device.code, 0, $0) }
  }

  public func contiguous(_ format: MemoryFormat = .contiguous) throws -> Tensor {
    try make { ctorch_op_contiguous(handle, format.code, $0) }
  }

  public func clone() throws -> Tensor { try make { ctorch_op_clone(handle, $0) } }

  /// The same values, cut from the autograd graph.
  public func detached() throws -> Tensor { try make { ctorch_op_detach(handle, $0) } }

  public func reshaped(_ shape: [Int]) throws -> Tensor {
    let dims = shape.map(Int64.init)
    return try make { ctorch_op_reshape(handle, dims, Int64(dims.count), $0) }
  }

  public func permuted(_ dims: [Int]) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try make { ctorch_op_permute(handle, d, Int64(d.count), $0) }
  }

  public func transposed(_ d0: Int, _ d1: Int) throws -> Tensor {
    try make { ctorch_op_transpose(handle, Int64(d0), Int64(d1), $0) }
  }

  public func expanded(_ shape: [Int]) throws -> Tensor {
    let dims = shape.map(Int64.init)
    return try make { ctorch_op_expand(handle, dims, Int64(dims.count), $0) }
  }

  /// Elements start..<end (step `step`) along `dim`, as a view.
  public func slice(dim: Int = 0, _ start: Int, _ end: Int, step: Int = 1) throws -> Tensor {
    try make { ctorch_op_slice(handle, Int64(dim), Int64(start), Int64(end), Int64(step), $0) }
  }

  /// The sub-tensor at `index` along `dim` (that dim removed).
  public func select(dim: Int = 0, _ index: Int) throws -> Tensor {
    try make { ctorch_op_select(handle, Int64(dim), Int64(index), $0) }
  }

  public func unsqueezed(_ dim: Int) throws -> Tensor { try make { ctorch_op_unsqueeze(handle, Int64(dim), $0) } }

  public func squeezed(_ dim: Int? = nil) throws -> Tensor {
    try make { ctorch_op_squeeze(handle, dim.map(Int64.init) ?? Int64.min, $0) }
  }

  public func flattened(from start: Int = 0, to end: Int = -1) throws -> Tensor {
    try make { ctorch_op_flatten(handle, Int64(start), Int64(end), $0) }
  }

  /// `self[index]` with an int64 index tensor (rows) or a bool mask.
  public func indexed(by index: Tensor) throws -> Tensor { try make { ctorch_op_index(handle, index.handle, $0) } }

  /// `self[i0, i1, ...]`: one index tensor per leading dimension, nil for a whole dimension (":").
  public func indexed(_ indices: [Tensor?]) throws -> Tensor {
    let present = indices.compactMap { $0 }
    let handles: [OpaquePointer?] = indices.map { $0?.handle }
    return try withExtendedLifetime(present) {
      try make { out in handles.withUnsafeBufferPointer { ctorch_op_index_multi(handle, $0.baseAddress, Int64(indices.count), out) } }
    }
  }

  /// Makes this tensor object refer to `other`'s data (the object keeps its identity). Used to
  /// move parameters to another device, dtype or memory format without rebuilding a model.
  public func assign(_ other: Tensor) throws { try check(ctorch_op_assign(handle, other.handle)) }

  public func indexSelect(dim: Int, _ index: Tensor) throws -> Tensor {
    try make { ctorch_op_index_select(handle, Int64(dim), index.handle, $0) }
  }

  /// `self[index] = values`, in place.
  public func indexPut_(_ index: Tensor, _ values: Tensor) throws {
    try check(ctorch_op_index_put_(handle, index.handle, values.handle))
  }

  public func flipped(_ dims: [Int]) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try make { ctorch_op_flip(handle, d, Int64(d.count), $0) }
  }

  /// Constant padding; `pad` lists (before, after) pairs starting from the last dimension, as in PyTorch.
  public func padded(_ pad: [Int], value: Double = 0) throws -> Tensor {
    let p = pad.map(Int64.init)
    return try make { ctorch_op_pad(handle, p, Int64(p.count), value, $0) }
  }

  public subscript(range: Range<Int>) -> Tensor {
    get throws { try slice(dim: 0, range.lowerBound, range.upperBound) }
  }

  public subscript(index: Int) -> Tensor {
    get throws { try select(dim: 0, index) }
  }

  public static func cat(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withHandles(tensors) { h in try make { ctorch_op_cat(h, Int64(tensors.count), Int64(dim), $0) } }
  }

  public static func stack(_ tensors: [Tensor], dim: Int = 0) throws -> Tensor {
    try withHandles(tensors) { h in try make { ctorch_op_stack(h, Int64(tensors.count), Int64(dim), $0) } }
  }
}
