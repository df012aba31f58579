import Torch

/// Where a list of tensors sits when packed end to end in one flat 1-D buffer: the per-tensor
/// arithmetic of AGR becomes a handful of whole-buffer kernels (a segmented sum for the dot
/// products, one gather for the per-tensor weights) instead of one small kernel per tensor and
/// operation. (A multi-tensor multiply by per-tensor device scalars is no such kernel: PyTorch's
/// `_foreach_mul` takes its fused route only for lists of equal shapes, and a list of 0-dim factors
/// falls back to one multiply per tensor.) Built once per parameter list; its int64 `lengths` and its
/// segment index (which tensor each entry belongs to, int32) stay on the device.
public final class FlatLayout {
  /// How a tensor's entries lie in memory. Channels-last tensors (the gradients of a channels-last model)
  /// are packed in their memory order (N, H, W, C), so packing stays one copy and unpacking gives views
  /// with the parameters' strides. AGR's arithmetic is per tensor and elementwise: the order is immaterial.
  public enum MemoryOrder: Equatable, Sendable {
    case plain, channelsLast, other

    public init(of tensor: Tensor) {
      if tensor.isContiguous() {
        self = .plain
      } else if tensor.rank == 4 && tensor.isContiguous(.channelsLast) {
        self = .channelsLast
      } else {
        self = .other
      }
    }
  }

  public let shapes: [[Int]]
  public let orders: [MemoryOrder]
  public let lengths: [Int]
  public let offsets: [Int]
  public let total: Int
  public let device: Device
  /// `lengths` as an int64 tensor on `device`.
  let deviceLengths: Tensor
  /// For each of the `total` entries, the index of its tensor (int32, on `device`): `expand` is then one
  /// gather, where `repeat_interleave` would rebuild this index on every call.
  let segmentIndex: Tensor

  public init(like tensors: [Tensor]) throws {
    guard let first = tensors.first else { throw TorchError("FlatLayout: no tensors") }
    shapes = tensors.map(\.shape)
    orders = tensors.map(MemoryOrder.init(of:))
    lengths = shapes.map { $0.reduce(1, *) }
    var running = 0
    offsets = lengths.map { l in defer { running += l }; return running }
    total = running
    device = first.device
    deviceLengths = try Tensor(lengths.map(Int64.init), device: device)
    segmentIndex = try Tensor.arange(0, Double(tensors.count), dtype: .int32, device: device)
      .repeatInterleaved(deviceLengths, outputSize: total)
  }

  /// True when `tensors` have this layout's shapes, device and memory orders (the layout was, or could
  /// have been, made from them).
  public func describes(_ tensors: [Tensor]) -> Bool {
    tensors.count == shapes.count
      && tensors.indices.allSatisfy { i in
        tensors[i].shape == shapes[i] && tensors[i].device == device && MemoryOrder(of: tensors[i]) == orders[i]
      }
  }

  /// True when the layout describes `tensors` and none of them is `.other`: packing and unpacking are then
  /// copies of memory order, and the unpacked views have the same strides.
  public func matches(_ tensors: [Tensor]) -> Bool { !orders.contains(.other) && describes(tensors) }

  /// The tensors packed end to end in their memory order (one copy).
  public func pack(_ tensors: [Tensor]) throws -> Tensor {
    try Tensor.cat(try tensors.indices.map { i in
      orders[i] == .channelsLast ? try tensors[i].permuted([0, 2, 3, 1]).reshaped([-1]) : try tensors[i].reshaped([-1])
    })
  }

  /// The segments of `flat` as views shaped (and strided) like the original tensors (no copy).
  public func unpack(_ flat: Tensor) throws -> [Tensor] {
    try shapes.indices.map { i in
      let segment = try flat.slice(dim: 0, offsets[i], offsets[i] + lengths[i])
      guard orders[i] == .channelsLast else { return try segment.reshaped(shapes[i]) }
      let s = shapes[i]
      return try segment.reshaped([s[0], s[2], s[3], s[1]]).permuted([0, 3, 1, 2])
    }
  }

  /// One value per tensor, repeated over that tensor's entries.
  public func expand(_ perTensor: Tensor) throws -> Tensor {
    try perTensor.indexSelect(dim: 0, segmentIndex)
  }

  /// The sum of each tensor's entries, accumulated in float64 and returned in `flat`'s dtype: the segmented
  /// sum runs sequentially within a segment, and in float32 that drifts by 1e-3 over millions of entries.
  public func segmentSums(_ flat: Tensor) throws -> Tensor {
    let sums = try (flat.dtype == .float64 ? flat : try flat.to(.float64)).segmentSum(lengths: deviceLengths)
    return flat.dtype == .float64 ? sums : try sums.to(flat.dtype)
  }
}

/// How a training step runs AGR's arithmetic. Both give the same numbers: the same elementwise
/// operations in the same order, with the per-tensor dots and squared norms summed in float64 over the
/// same float32 products.
public enum ReconstructionPath: String, Codable, CaseIterable, Sendable {
  /// Gradients packed in one flat buffer (`FlatLayout`): a fixed handful of kernels.
  case flat
  /// Multi-tensor operations over the list of tensors (`GradientReconstruction.reconstruct`), the reference.
  /// Its per-tensor scalings are one kernel per tensor (no fused route), but it skips the packing copies.
  case perTensor = "per-tensor"

  /// The path training takes on `device`: flat on a GPU, where kernel launches bound a step and the flat path
  /// launches a fixed handful; per-tensor on the CPU, where launches cost nothing and the packing copies do
  /// (docs/performance.md has the measurements).
  public static func preferred(on device: Device) -> ReconstructionPath {
    if case .cuda = device { return .flat }
    return .perTensor
  }
}

extension GradientReconstruction {
  /// `reconstruct(clean:adversarial:)` over gradients packed with `layout`. The returned gradients
  /// are views of one flat buffer. Falls back to the per-tensor form when the gradients do not fit
  /// the layout (other shapes, device or memory order, or strides that are neither plain nor channels-last).
  public func reconstructFlat(clean gNat: [Tensor], adversarial gAdv: [Tensor], layout: FlatLayout) throws
    -> (gradients: [Tensor], statistics: Statistics)
  {
    guard layout.matches(gNat), layout.matches(gAdv) else { return try reconstruct(clean: gNat, adversarial: gAdv) }
    guard clip > 0 else { throw TorchError("AGR: the clip C must be positive, got \(clip)") }
    let nat = try layout.pack(gNat)
    let adv = try layout.pack(gAdv)
    // The same per-tensor quantities as `reconstruct`, computed the same way (sums accumulated in float64).
    let dots = try layout.segmentSums(try adv * nat)
    let normAdv = try layout.segmentSums(try adv * adv).sqrt()
    let normNat = try layout.segmentSums(try nat * nat).sqrt()
    let (cosine, weightNat, weightAdv) = try Self.weights(dots: dots, cleanNorm: normNat, adversarialNorm: normAdv)
    let combined = try (try nat * (try layout.expand(weightNat))) + (try adv * (try layout.expand(weightAdv)))
    let scale = try (clip / (try Foreach.norms(try layout.unpack(combined)) + 1e-12)).clamped(max: 1)
    let gradients = try layout.unpack(try combined * (try layout.expand(scale)))
    return (gradients, Statistics(cosine: cosine, cleanNorm: normNat, adversarialNorm: normAdv))
  }
}
