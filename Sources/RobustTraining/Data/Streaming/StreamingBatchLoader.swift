import Foundation
import Torch

/// Batches decoded from JPEG files as they are read (`FolderImageList`), for datasets no machine holds decoded
/// (ImageNet: 1.28M JPEGs). A pool of `threads` decodes each image straight to the transform's output
/// (`FolderTransform`: RandomResizedCrop + flip for training, the centre crop for evaluation) with libjpeg's
/// DCT scaling and partial decoding (`DecodePlan`), `queueDepth` batches ahead of the trainer.
/// An epoch's order depends only on (seed, epoch) and each sample's crop only on (seed, epoch, position), so
/// the batches are the same for any number of threads and a resumed epoch continues exactly.
/// Under data parallelism (`rank`, `worldSize`) a batch holds only this rank's rows of the global batch
/// (`BatchShard`): each rank decodes its share.
/// An unreadable image stops the epoch with an error naming the file (never a shorter batch or epoch).
public struct StreamingBatchLoader: BatchSource {
  public let images: FolderImageList
  public let transform: FolderTransform
  public let batchSize: Int
  public let shuffle: Bool
  public let seed: UInt64
  public let threads: Int
  /// Decoded batches held ready ahead of the reader (the one being read included).
  public let queueDepth: Int
  public let device: Device
  public let rank: Int
  public let worldSize: Int
  /// Where the time goes, when measured (`agr bench-data --profile`).
  public var profile: DecodeProfile? = nil

  public init(_ images: FolderImageList, transform: FolderTransform, batchSize: Int, shuffle: Bool, seed: UInt64 = 0,
              threads: Int = StreamingBatchLoader.defaultThreads, queueDepth: Int = 3, device: Device = .cpu,
              rank: Int = 0, worldSize: Int = 1) throws
  {
    guard images.count > 0 else { throw DatasetError.unsupported("\(images.name): no images") }
    guard batchSize > 0 else { throw DatasetError.unsupported("\(images.name): batch size must be positive, got \(batchSize)") }
    guard (1...StreamingBatchLoader.maximumThreads).contains(threads) else {
      throw DatasetError.unsupported("decode threads must lie in 1...\(StreamingBatchLoader.maximumThreads), got \(threads)")
    }
    guard queueDepth >= 1 else { throw DatasetError.unsupported("the queue of decoded batches must hold at least 1, got \(queueDepth)") }
    guard worldSize >= 1, (0..<worldSize).contains(rank) else {
      throw DatasetError.unsupported("rank \(rank) is not one of \(worldSize) ranks")
    }
    self.images = images
    self.transform = transform
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.seed = seed
    self.threads = threads
    self.queueDepth = queueDepth
    self.device = device
    self.rank = rank
    self.worldSize = worldSize
  }

  /// The default thread count when `localRanks` processes share this machine's cores: the cores divided among
  /// them (at least 1), as `agr train --nproc-per-node` divides OMP_NUM_THREADS.
  public static func defaultThreads(localRanks: Int, cores: Int = ProcessInfo.processInfo.activeProcessorCount) -> Int {
    Swift.max(1, Swift.min(cores / Swift.max(1, localRanks), maximumThreads))
  }

  /// The default for this process: all the cores, or its share of them when it is a rank of a data-parallel job
  /// (`DistributedEnvironment.localWorldSize`).
  public static var defaultThreads: Int {
    let place = (try? DistributedEnvironment.read()) ?? nil
    return defaultThreads(localRanks: place.map { DistributedEnvironment.localWorldSize(worldSize: $0.worldSize) } ?? 1)
  }
  public static let maximumThreads = 256

  public var imageCount: Int { images.count }
  public var batchCount: Int { (images.count + batchSize - 1) / batchSize }

  /// The file index at each position of `epoch`: a Fisher-Yates shuffle seeded by (seed, epoch), or the
  /// list's order.
  public func order(epoch: Int) -> [Int] {
    var order = Array(0..<images.count)
    guard shuffle else { return order }
    var random = SampleRandom(seed: seed ^ 0x0DE5_0F0D, epoch: epoch, position: -1)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, random.below(i + 1)) }
    return order
  }

  /// The rows of batch `index` (0-based within the batch).
  func rows(ofBatch index: Int) -> Int { Swift.min(batchSize, images.count - index * batchSize) }

  /// This rank's rows of batch `index`, nil when one process reads whole batches.
  func shard(ofBatch index: Int) -> BatchShard? {
    worldSize > 1 ? BatchShard(rank: rank, worldSize: worldSize, total: rows(ofBatch: index)) : nil
  }

  func decodedRows(ofBatch index: Int) -> Range<Int> { shard(ofBatch: index)?.rows ?? 0..<rows(ofBatch: index) }

  public func batches(epoch: Int, indices: [Int]) throws -> any EpochBatchSequence {
    if let stray = indices.first(where: { !(0..<batchCount).contains($0) }) {
      throw DatasetError.unsupported("\(images.name): batch \(stray) is outside 0..<\(batchCount)")
    }
    let pipeline = try DecodePipeline(loader: self, epoch: epoch, batches: indices, floats: true)
    return StreamingEpochBatches(count: batchCount, pipeline: pipeline, device: device, profile: profile)
  }

  /// The first `count` images (all when nil) through the transform, in the list's order, held in memory (for
  /// `agr eval`).
  public func decodeAll(limit: Int? = nil) throws -> LabeledImages {
    let subset = try StreamingBatchLoader(
      images.prefix(limit ?? images.count), transform: transform, batchSize: batchSize, shuffle: false, seed: seed,
      threads: threads, queueDepth: queueDepth)
    let pipeline = try DecodePipeline(loader: subset, epoch: 0, batches: Array(0..<subset.batchCount), floats: false)
    var parts = [Tensor]()
    var labels = [Int64]()
    while let pixels = try pipeline.next() {
      parts.append(pixels.images)
      labels += pixels.labels
    }
    return try LabeledImages(name: images.name, images: try Tensor.cat(parts), labels: try Tensor(labels),
                             classCount: images.classCount)
  }
}

/// The batches of one epoch of a `StreamingBatchLoader`, decoded ahead on its threads (into pinned memory and copied
/// on a side stream when the device is a GPU).
public struct StreamingEpochBatches: EpochBatchSequence {
  public let count: Int
  let pipeline: DecodePipeline
  let device: Device
  let profile: DecodeProfile?

  public mutating func next() throws -> Batch? {
    guard let pixels = try pipeline.next() else { return nil }
    let start = DecodeProfile.now()
    defer { profile?.add(.batch, DecodeProfile.since(start)) }
    // On a GPU the pinned pixels (and the small label and index tensors) go over on a side stream: the copies
    // overlap the steps already queued, and the host does not wait for them (a plain copy would wait for the
    // compute stream).
    func moved(_ tensor: Tensor) throws -> Tensor {
      device.isCUDA ? try CUDA.copyOnSideStream(tensor, to: device) : try tensor.to(device)
    }
    var batch = Batch(images: try moved(pixels.images), labels: try moved(try Tensor(pixels.labels)),
                      indices: try moved(try Tensor(pixels.files)))
    batch.shard = pixels.shard
    return batch
  }
}
