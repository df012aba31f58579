import Foundation
import Torch

/// Training batches that mix the real training set with extra (generated) images, as DM-Improves-AT's
/// `SemiSupervisedSampler` (`core/data/semisup.py`) does with its `unsup_fraction`:
/// - every batch holds `batchSize` images: `int(batchSize * fraction)` drawn uniformly, with replacement, from
///   the extra images, the rest the next images of a random permutation of the real set (a fresh permutation
///   when one is used up), the two parts shuffled together;
/// - an epoch is a fixed number of samples, not a pass over the extra data: `ceil(epochSize / batchSize)`
///   batches (by default `epochSize` is the real set's size, as theirs).
/// Where theirs tops up the last, short, chunk of a pass over the real set with extra images, ours continues
/// into the next permutation, so that every batch holds exactly the asked share of extra images.
/// An epoch's batches depend only on (seed, epoch), so a resumed run sees the batches the interrupted one
/// would have; batch `b` is built on its own (`batch(at:)`).
public struct MixedBatchLoader {
  public let real: BatchLoader
  public let extra: ExtraImages
  /// The share of each batch drawn from the extra images (their `unsup_fraction`).
  public let fraction: Double
  /// Samples per epoch (real and extra together).
  public let epochSize: Int

  public init(real: BatchLoader, extra: ExtraImages, fraction: Double, epochSize: Int? = nil) throws {
    guard fraction.isFinite, (0...1).contains(fraction) else {
      throw DatasetError.unsupported("\(extra.path): the extra share of a batch must lie in [0, 1], got \(fraction)")
    }
    guard extra.imageShape == real.dataset.imageShape else {
      throw DatasetError.mismatch(
        files: [extra.path, real.dataset.name], detail: "images of \(extra.imageShape) and \(real.dataset.imageShape)")
    }
    let size = epochSize ?? real.dataset.count
    guard (1...Self.largestEpochSize).contains(size) else {
      throw DatasetError.unsupported("\(extra.path): the epoch size must lie in 1...\(Self.largestEpochSize), got \(size)")
    }
    self.real = real
    self.extra = extra
    self.fraction = fraction
    self.epochSize = size
  }

  /// The most samples an epoch may have: its plan holds 8 bytes a sample (a real image's position or an extra
  /// image's row), 8 GB at this size.
  public static let largestEpochSize = 1_000_000_000

  public var batchSize: Int { real.batchSize }
  /// Extra images in every batch: `int(batch_size * unsup_fraction)`, as their sampler rounds it.
  public var extraPerBatch: Int { Int(Double(batchSize) * fraction) }
  /// Real images in every batch.
  public var realPerBatch: Int { batchSize - extraPerBatch }
  public var batchCount: Int { (epochSize + batchSize - 1) / batchSize }

  /// What an epoch draws, in this order from one generator seeded by (seed, epoch): the real set's
  /// permutations, then the extra rows. Each batch's shuffle has a generator of its own, seeded by the batch.
  public struct EpochPlan {
    /// The real images' positions, `realPerBatch` per batch (int64, on the device the real set is held on: a
    /// GPU-resident set's batches are cut without a copy from the host).
    public let realOrder: Tensor
    /// The extra images' rows, `extraPerBatch` per batch.
    public let extraRows: [Int]
    let seed: UInt64
  }

  public func plan(epoch: Int) throws -> EpochPlan {
    let seed = BatchLoader.mix(real.seed ^ 0xE87A_DA7A, UInt64(truncatingIfNeeded: epoch))
    let generator = try Generator(seed: seed)
    let realCount = batchCount * realPerBatch
    var realOrder = try Tensor.zeros([0], dtype: .int64)
    if realCount > 0 {
      let passes = (realCount + real.dataset.count - 1) / real.dataset.count
      let permutations = try (0..<passes).map { _ in try Tensor.randperm(real.dataset.count, generator: generator) }
      realOrder = try Tensor.cat(permutations)[0..<realCount].to(real.source.images.device)
    }
    let extraRows = batchCount * extraPerBatch == 0 ? []
      : try Tensor.randint(0, extra.count, [batchCount * extraPerBatch], generator: generator).toArray(Int64.self).map { Int($0) }
    return EpochPlan(realOrder: realOrder, extraRows: extraRows, seed: seed)
  }

  public func batches(epoch: Int, startingAt start: Int = 0) throws -> MixedEpochBatches {
    MixedEpochBatches(loader: self, plan: try plan(epoch: epoch), nextIndex: start)
  }

  /// Batch `index` of an epoch drawn as `plan`: `Batch.indices` number the real images 0..<N and the
  /// extra ones N + row, as their sampler does.
  func batch(_ index: Int, plan: EpochPlan) throws -> Batch {
    let device = real.device
    let (realRows, extraRows) = (realPerBatch, extraPerBatch)
    var images = [Tensor]()
    var labels = [Tensor]()
    var indices = [Tensor]()
    if realRows > 0 {
      let positions = try plan.realOrder[index * realRows..<(index + 1) * realRows]
      images.append(try real.source.images.indexed(by: positions).to(device))
      labels.append(try real.source.labels.indexed(by: positions).to(device))
      indices.append(try positions.to(device))
    }
    if extraRows > 0 {
      let rows = Array(plan.extraRows[index * extraRows..<(index + 1) * extraRows])
      images.append(try extra.pixels(rows: rows).to(device))
      labels.append(try extra.labels(rows: rows).to(device))
      indices.append(try Tensor(rows.map { Int64(real.dataset.count + $0) }).to(device))
    }
    let shuffle = try Tensor.randperm(batchSize, generator: try Generator(seed: BatchLoader.mix(plan.seed, UInt64(index))))
      .to(device)
    let pixels = try Tensor.cat(images).indexed(by: shuffle)
    return Batch(images: try pixels.to(.float32) / 255.0, labels: try Tensor.cat(labels).indexed(by: shuffle),
                 indices: try Tensor.cat(indices).indexed(by: shuffle))
  }
}

/// The batches of one epoch of a `MixedBatchLoader`, in order.
public struct MixedEpochBatches: EpochBatchSequence {
  let loader: MixedBatchLoader
  public let plan: MixedBatchLoader.EpochPlan
  public private(set) var nextIndex: Int

  public var count: Int { loader.batchCount }

  public mutating func next() throws -> Batch? {
    guard nextIndex < loader.batchCount else { return nil }
    defer { nextIndex += 1 }
    return try loader.batch(nextIndex, plan: plan)
  }

  public func batch(at index: Int) throws -> Batch {
    guard (0..<loader.batchCount).contains(index) else {
      throw DatasetError.unsupported("\(loader.extra.path): batch \(index) is outside 0..<\(loader.batchCount)")
    }
    return try loader.batch(index, plan: plan)
  }
}
