import Foundation

/// Where a trainer's batches come from: a set held in memory (`BatchLoader`), one mixed with extra images
/// (`MixedBatchLoader`), or JPEG folders decoded as they are read (`StreamingBatchLoader`).
public protocol BatchSource {
  /// The images one pass over the source holds (for a test set: each image once).
  var imageCount: Int { get }
  var batchCount: Int { get }
  /// Batches `indices` of `epoch`, in that order (a resumed epoch starts late; a rank of an evaluation takes
  /// every N-th batch).
  func batches(epoch: Int, indices: [Int]) throws -> any EpochBatchSequence
}

extension BatchSource {
  /// The batches of `epoch` from batch `start` on.
  public func epochBatches(epoch: Int, startingAt start: Int = 0) throws -> any EpochBatchSequence {
    try batches(epoch: epoch, indices: Array(Swift.min(start, batchCount)..<batchCount))
  }
}

/// Batches listed by index, each made on demand.
struct ListedBatches: EpochBatchSequence {
  let count: Int
  let indices: [Int]
  let make: (Int) throws -> Batch
  private var position = 0

  init(count: Int, indices: [Int], make: @escaping (Int) throws -> Batch) {
    (self.count, self.indices, self.make) = (count, indices, make)
  }

  mutating func next() throws -> Batch? {
    guard position < indices.count else { return nil }
    defer { position += 1 }
    return try make(indices[position])
  }
}

extension BatchLoader: BatchSource {
  public var imageCount: Int { dataset.count }

  public func batches(epoch: Int, indices: [Int]) throws -> any EpochBatchSequence {
    let order = try order(epoch: epoch).to(source.images.device)
    return ListedBatches(count: batchCount, indices: indices) { try batch($0, order: order) }
  }
}

extension MixedBatchLoader: BatchSource {
  public var imageCount: Int { epochSize }

  public func batches(epoch: Int, indices: [Int]) throws -> any EpochBatchSequence {
    let plan = try plan(epoch: epoch)
    return ListedBatches(count: batchCount, indices: indices) { try batch($0, plan: plan) }
  }
}
