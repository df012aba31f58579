import Foundation
import Torch

/// One mini-batch: float32 images in [0, 1] (N, C, H, W) and int64 labels (N), on the loader's device.
public struct Batch {
  public let images: Tensor
  public let labels: Tensor
  /// The samples' positions in the dataset (int64, on the device the dataset is held on).
  public let indices: Tensor
  /// Set when the batch holds only one rank's rows of a global batch (a streamed batch decodes no others):
  /// which rows, of how many.
  public var shard: BatchShard? = nil
}

/// Cuts a dataset into mini-batches. The order of an epoch depends only on (seed, epoch), so a run
/// resumed at epoch e, batch b sees exactly the batches the interrupted run would have seen.
public struct BatchLoader {
  public let dataset: LabeledImages
  public let batchSize: Int
  public let shuffle: Bool
  public let seed: UInt64
  public let dropLast: Bool
  public let device: Device
  /// The uint8 images and labels batches are cut from: on `device` when GPU-resident, else on the CPU.
  let source: LabeledImages

  /// - Parameter resident: copy the whole (uint8) dataset to `device` once and cut batches there,
  ///   instead of moving each batch from the host.
  public init(_ dataset: LabeledImages, batchSize: Int, shuffle: Bool = true, seed: UInt64 = 0,
              dropLast: Bool = false, device: Device = .cpu, resident: Bool = false) throws
  {
    guard batchSize > 0 else { throw DatasetError.unsupported("\(dataset.name): batch size must be positive, got \(batchSize)") }
    self.dataset = dataset
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.seed = seed
    self.dropLast = dropLast
    self.device = device
    self.source = resident ? try dataset.to(device) : try dataset.to(.cpu)
  }

  public var isResident: Bool { source.images.device == device }

  public var batchCount: Int {
    dropLast ? dataset.count / batchSize : (dataset.count + batchSize - 1) / batchSize
  }

  /// The sample order of `epoch` (int64, CPU): a permutation drawn from a generator seeded by (seed, epoch),
  /// or 0..<count without shuffling.
  public func order(epoch: Int) throws -> Tensor {
    guard shuffle else { return try Tensor.arange(0, Double(dataset.count)) }
    let generator = try Generator(seed: Self.mix(seed, UInt64(truncatingIfNeeded: epoch)))
    return try Tensor.randperm(dataset.count, generator: generator)
  }

  /// The batches of `epoch`, optionally starting at batch `start` (for resuming mid-epoch). The epoch's
  /// order is moved to where the dataset is held once, so that cutting a batch from a GPU-resident dataset
  /// copies nothing from the host (such a copy would make the host wait for the GPU at every step).
  public func batches(epoch: Int, startingAt start: Int = 0) throws -> EpochBatches {
    EpochBatches(loader: self, order: try order(epoch: epoch).to(source.images.device), next: start)
  }

  /// Batch `index` of an epoch whose order is `order`.
  func batch(_ index: Int, order: Tensor) throws -> Batch {
    let begin = index * batchSize
    let end = Swift.min(begin + batchSize, dataset.count)
    let indices = try order[begin..<end].to(source.images.device)
    let pixels = try source.images.indexed(by: indices).to(device)
    let images = try pixels.to(.float32) / 255.0
    return Batch(images: images, labels: try source.labels.indexed(by: indices).to(device), indices: indices)
  }

  /// SplitMix64 finaliser over the pair, so neighbouring epochs get unrelated streams.
  static func mix(_ seed: UInt64, _ epoch: UInt64) -> UInt64 {
    var z = seed &+ 0x9E37_79B9_7F4A_7C15 &* (epoch &+ 1)
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// One epoch's training batches, in order: `while let batch = try batches.next() { ... }`.
public protocol EpochBatchSequence {
  /// How many batches the epoch has.
  var count: Int { get }
  mutating func next() throws -> Batch?
}

/// The batches of one epoch, in order: `while let batch = try batches.next() { ... }`.
public struct EpochBatches: EpochBatchSequence {
  let loader: BatchLoader
  /// The epoch's sample order (int64, on the device the dataset is held on).
  public let order: Tensor
  /// The index of the batch `next()` returns.
  public private(set) var nextIndex: Int

  init(loader: BatchLoader, order: Tensor, next: Int) {
    self.loader = loader
    self.order = order
    self.nextIndex = next
  }

  public var count: Int { loader.batchCount }

  public mutating func next() throws -> Batch? {
    guard nextIndex < loader.batchCount else { return nil }
    defer { nextIndex += 1 }
    return try loader.batch(nextIndex, order: order)
  }
}
