import CTorch

extension Tensor {
  func reduce(_ op: ctorch_reduce_op, _ dims: [Int], keepDim: Bool) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try make { ctorch_op_reduce(op, handle, d, Int64(d.count), keepDim ? 1 : 0, $0) }
  }

  /// Sum over `dims` (all elements when empty).
  public func sum(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_SUM, dims, keepDim: keepDim) }
  public func mean(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MEAN, dims, keepDim: keepDim) }
  public func max(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MAX, dims, keepDim: keepDim) }
  public func min(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_MIN, dims, keepDim: keepDim) }
  public func any(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ANY, dims, keepDim: keepDim) }
  public func all(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor { try reduce(CT_ALL, dims, keepDim: keepDim) }
  public func logSumExp(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_LOGSUMEXP, dims, keepDim: keepDim)
  }
  public func variance(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_VAR, dims, keepDim: keepDim)
  }
  public func standardDeviation(dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_STD, dims, keepDim: keepDim)
  }
  public func prod(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_PROD, dim.map { [$0] } ?? [], keepDim: keepDim)
  }
  /// Index of the largest element along `dim` (over the flattened tensor when nil).
  public func argmax(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_ARGMAX, dim.map { [$0] } ?? [], keepDim: keepDim)
  }
  public func argmin(dim: Int? = nil, keepDim: Bool = false) throws -> Tensor {
    try reduce(CT_ARGMIN, dim.map { [$0] } ?? [], keepDim: keepDim)
  }

  /// The vector p-norm over `dims` (all elements when empty); p may be .infinity.
  public func norm(_ p: Double = 2, dims: [Int] = [], keepDim: Bool = false) throws -> Tensor {
    let d = dims.map(Int64.init)
    return try make { ctorch_op_norm(handle, p, d, Int64(d.count), keepDim ? 1 : 0, $0) }
  }

  public func sorted(dim: Int = -1, descending: Bool = false) throws -> (values: Tensor, indices: Tensor) {
    let (v, i) = try makePair { ctorch_op_sort(handle, Int64(dim), descending ? 1 : 0, $0, $1) }
    return (v, i)
  }

  public func topK(_ k: Int, dim: Int = -1, largest: Bool = true) throws -> (values: Tensor, indices: Tensor) {
    let (v, i) = try makePair { ctorch_op_topk(handle, Int64(k), Int64(dim), largest ? 1 : 0, $0, $1) }
    return (v, i)
  }

  public func gather(dim: Int, _ index: Tensor) throws -> Tensor {
    try make { ctorch_op_gather(handle, Int64(dim), index.handle, $0) }
  }

  public func scatter(dim: Int, _ index: Tensor, _ source: Tensor) throws -> Tensor {
    try make { ctorch_op_scatter(handle, Int64(dim), index.handle, source.handle, $0) }
  }

  public func scatter(dim: Int, _ index: Tensor, value: Double) throws -> Tensor {
    try make { ctorch_op_scatter_value(handle, Int64(dim), index.handle, value, $0) }
  }

  /// One-hot int64 rows for integer labels.
  public func oneHot(classes: Int) throws -> Tensor { try make { ctorch_op_one_hot(handle, Int64(classes), $0) } }
}
