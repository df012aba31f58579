import Foundation
import Torch

extension Trainer {
  /// Trains on JPEG folders decoded as they are read (`StreamingBatchLoader`): training images through
  /// RandomResizedCrop + flip at decode, test images through the centre crop, `decode_threads` threads each.
  /// Under data parallelism each rank decodes only its rows of every global batch. The tensor augmentations
  /// (`augmentations`) are refused: the crop and flip happen at decode.
  public convenience init(configuration: TrainingConfiguration, model: any Classifier, streaming train: FolderImageList,
                          test: FolderImageList, run: RunDirectory?, dataParallel: DataParallel? = nil) throws
  {
    try configuration.validate()
    let c = configuration
    if let dataParallel { try Self.checkSupported(c, by: dataParallel) }
    guard c.extraData == nil else {
      throw ConfigurationError(key: "extra_data", "is mixed into datasets held in memory, not into the streamed \(c.dataset)")
    }
    guard c.activeAugmentations.isEmpty else {
      throw ConfigurationError(
        key: "augmentations", "\(c.dataset) is cropped and flipped as it is decoded (RandomResizedCrop + flip): "
          + "the tensor augmentations \(c.activeAugmentations.map(\.rawValue)) would come on top; use --augment none")
    }
    let trainList = c.trainSubset.map { train.prefix($0) } ?? train
    let testList = c.testSubset.map { test.prefix($0) } ?? test
    guard trainList.count > 0 else { throw TrainingError.emptyDataset("\(train.name): the training set holds no images") }
    guard testList.count > 0 else { throw TrainingError.emptyDataset("\(test.name): the test set holds no images") }
    let ranks = dataParallel?.worldSize ?? 1
    if trainList.count % c.batchSize != 0, trainList.count % c.batchSize < ranks {
      throw ConfigurationError(
        key: "batch_size", "the last batch of an epoch holds \(trainList.count % c.batchSize) images, fewer than the "
          + "\(ranks) ranks: change it or train_subset")
    }
    // by default each rank of a data-parallel job decodes with its share of the machine's cores
    let localRanks = dataParallel.map { DistributedEnvironment.localWorldSize(worldSize: $0.worldSize) } ?? 1
    let threads = c.decodeThreads ?? StreamingBatchLoader.defaultThreads(localRanks: localRanks)
    let size = c.imageSize ?? FolderTransform.training.outputSize
    let trainLoader = try StreamingBatchLoader(
      trainList, transform: .randomResizedCrop(size: size), batchSize: c.batchSize, shuffle: true, seed: c.seed, threads: threads,
      device: c.device, rank: dataParallel?.rank ?? 0, worldSize: ranks)
    let testLoader = try StreamingBatchLoader(
      testList, transform: .evaluation(size: size), batchSize: Swift.max(c.batchSize, 256), shuffle: false, threads: threads,
      device: c.device)
    // the overfitting check's held batch: the first training images, centre-cropped (unaugmented, as in memory)
    var held: Batch?
    if c.overfitSteps > 0 {
      var batches = try StreamingBatchLoader(
        trainList.prefix(Swift.min(c.batchSize, trainList.count)), transform: .evaluation(size: size), batchSize: c.batchSize,
        shuffle: false, threads: threads, device: c.device).epochBatches(epoch: 0)
      held = try batches.next()
    }
    let inputShape = [3, size, size]
    try self.init(
      configuration: c, model: model, train: trainLoader, test: testLoader, overfitBatch: held,
      makeProxy: {
        try c.modelSource.make(classCount: train.classCount, inputShape: inputShape, normalization: c.normalization,
                               dropout: c.dropout)
      }, run: run, dataParallel: dataParallel)
  }
}
