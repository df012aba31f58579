import Foundation
import Torch

/// The epoch loop: schedule, method step (with AGR from its start epoch), per-epoch clean and PGD
/// evaluation, logs, diagnostics and checkpoints. Every epoch's randomness (batch order,
/// augmentation, attack starts) is a function of (seed, epoch), so a run resumed from its last
/// checkpoint continues exactly as the uninterrupted run would have.
public final class Trainer {
  public let configuration: TrainingConfiguration
  public let model: any Classifier
  public let optimizer: any Optimizer
  public let device: Device
  /// The memory format of the model and batches, resolved once (`TrainingConfiguration.usesChannelsLast`).
  let memoryFormat: MemoryFormat?
  /// The training batches: the training set's (`BatchLoader`), mixed with extra images (`MixedBatchLoader`,
  /// `extra_data`) or decoded from JPEG folders as they are read (`StreamingBatchLoader`).
  let trainBatches: any BatchSource
  let testBatches: any BatchSource
  /// The training batches mixed with extra images (`extra_data`), nil without them.
  var mixedLoader: MixedBatchLoader? { trainBatches as? MixedBatchLoader }
  public let step: TrainingStep
  /// The step replayed from CUDA graphs (`cuda_graphs`), nil otherwise.
  public let graphedStep: GraphedTrainingStep?
  /// The per-epoch evaluation of a test batch replayed from a CUDA graph (`cuda_graphs`), made on first use.
  var evaluationGraph: GraphedFunction?
  let run: RunDirectory?
  let names: [String]
  let kinds: [LayerKind]
  public internal(set) var records: [EpochRecord] = []
  var bestAccuracy = -1.0
  var diagnosticsBuffer: [GradientSample] = []
  /// The weight average (`TrainingConfiguration.weightAveraging`), updated after every step.
  public let average: WeightAverage?
  /// What runs after every step and epoch, in order (the weight average first, when there is one).
  public var hooks: [any TrainingHook] = []
  /// The training batch the catastrophic-overfitting check attacks (its first `batch_size` images, unshuffled and
  /// unaugmented), nil when the run does not check.
  let overfitBatch: Batch?
  /// The epoch (1-based) at which `stop_on_overfit` stopped the run; its record is the last of `records`, and
  /// the run's checkpoints are those of the epoch before.
  public internal(set) var stoppedOnOverfit: Int?
  /// The job this process is one rank of (nil: training alone).
  public let dataParallel: DataParallel?
  /// Whether this process writes the run's files (rank 0 of a job, or a process training alone).
  var writesFiles: Bool { dataParallel?.writesFiles ?? true }

  /// `awpProxy`: the model AWP's proxy step runs on (same architecture); by default one made from the
  /// configuration's model family. `dataParallel`: train as one rank of that job (see `DataParallel`);
  /// every rank starts from rank 0's weights. `extra`: the configuration's `extra_data`, opened already (by
  /// default it is opened here).
  public convenience init(configuration: TrainingConfiguration, model: any Classifier, train: LabeledImages,
                          test: LabeledImages, run: RunDirectory?, awpProxy: (any Classifier)? = nil,
                          dataParallel: DataParallel? = nil, extra: ExtraImages? = nil) throws
  {
    try configuration.validate()
    let c = configuration
    if let dataParallel { try Self.checkSupported(c, by: dataParallel) }
    let device = c.device
    let trainSet = try c.trainSubset.map { try train.prefix($0) } ?? train
    let testSet = try c.testSubset.map { try test.prefix($0) } ?? test
    guard trainSet.count > 0 else { throw TrainingError.emptyDataset("\(train.name): the training set holds no images") }
    guard testSet.count > 0 else { throw TrainingError.emptyDataset("\(test.name): the test set holds no images") }
    if extra != nil && c.extraData == nil {
      throw ConfigurationError(key: "extra_data", "extra images were given but the configuration names none (a resume would lack them)")
    }
    let extraImages = try extra ?? c.extraData.map { try ExtraImages(path: $0, fitting: trainSet) }
    // with extra data every batch is a full one
    if let dataParallel, extraImages == nil, trainSet.count % c.batchSize != 0,
       trainSet.count % c.batchSize < dataParallel.worldSize
    {
      throw ConfigurationError(
        key: "batch_size", "the last batch of an epoch holds \(trainSet.count % c.batchSize) images, fewer than the "
          + "\(dataParallel.worldSize) ranks: change it or train_subset")
    }
    let trainLoader = try BatchLoader(trainSet, batchSize: c.batchSize, shuffle: true, seed: c.seed, dropLast: false,
                                      device: device, resident: device.isCUDA)
    let mixedLoader = try extraImages.map {
      try MixedBatchLoader(real: trainLoader, extra: $0, fraction: c.extraShare, epochSize: c.epochSize)
    }
    let testLoader = try BatchLoader(testSet, batchSize: Swift.max(c.batchSize, 256), shuffle: false, device: device,
                                     resident: device.isCUDA)
    var held: Batch?
    if c.overfitSteps > 0 {
      var batches = try BatchLoader(try trainSet.prefix(Swift.min(c.batchSize, trainSet.count)), batchSize: c.batchSize,
                                    shuffle: false, device: device).batches(epoch: 0)
      held = try batches.next()
    }
    try self.init(configuration: c, model: model, train: mixedLoader ?? trainLoader, test: testLoader, overfitBatch: held,
                  makeProxy: { try awpProxy ?? c.makeModel(for: train) }, run: run, dataParallel: dataParallel)
  }

  /// Trains on batches from `train`, evaluates on `test`'s; `overfitBatch`: the held training batch of the
  /// catastrophic-overfitting check (`overfit_check_steps`); `makeProxy` makes AWP's proxy model.
  init(configuration c: TrainingConfiguration, model: any Classifier, train: any BatchSource, test: any BatchSource,
       overfitBatch: Batch?, makeProxy: @escaping () throws -> any Classifier, run: RunDirectory?,
       dataParallel: DataParallel?) throws
  {
    self.dataParallel = dataParallel
    self.configuration = c
    self.model = model
    device = c.device
    memoryFormat = c.usesChannelsLast ? .channelsLast : nil
    try model.move(to: device, memoryFormat: memoryFormat)
    average = try c.weightAveraging.map { try WeightAverage(model: model, decay: $0) }
    let named = model.namedParameters()
    names = named.map(\.name)
    kinds = model.parameterKinds()
    optimizer = try c.optimizerKind.make(parameters: named.map(\.tensor), configuration: c)
    trainBatches = train
    testBatches = test
    self.overfitBatch = overfitBatch
    let proxyFormat = memoryFormat
    step = try TrainingStep(configuration: c, model: model, optimizer: optimizer) {
      let proxy = try makeProxy()
      try proxy.move(to: c.device, memoryFormat: proxyFormat)
      return proxy
    }
    try step.distribute(over: dataParallel)
    try dataParallel?.broadcastFromRankZero(model.stateDict().map(\.tensor))
    if let dataParallel, c.synchronizedBatchNorm == true { dataParallel.synchronizeBatchNorm(in: model) }
    if let dataParallel, let awp = step.weightPerturbation {
      awp.gradientAverage = dataParallel.averageGradients
      if c.synchronizedBatchNorm == true { dataParallel.synchronizeBatchNorm(in: awp.proxy) }
    }
    graphedStep = c.cudaGraphs == true
      ? GraphedTrainingStep(step: step, ifRecordingFails: .runPlain(report: Self.warn("recording failed, training on with plain steps")))
      : nil
    self.run = run
    if let average { hooks.append(average) }
    if KillSwitch.target != nil { hooks.append(KillSwitch.StepHook()) }
  }

  /// Trains from `startEpoch` (0-based) up to `endEpoch` (default: the configured number of epochs).
  @discardableResult
  public func train(from startEpoch: Int = 0, until endEpoch: Int? = nil) throws -> [EpochRecord] {
    if let run, startEpoch == 0, writesFiles {
      try run.create()
      try run.writeConfiguration(configuration)
      try run.writeParameterIndex(ParameterIndex(names: names, kinds: kinds, shapes: optimizer.parameters.map(\.shape)))
      try? FileManager.default.removeItem(at: run.diagnostics)
    }
    for epoch in startEpoch..<Swift.min(endEpoch ?? configuration.epochs, configuration.epochs) {
      let record = try trainEpoch(epoch)
      if record.catastrophicOverfitting == true, configuration.stopOnOverfit == true {
        // Wong et al.'s early stop: nothing of this epoch is saved but its record; the checkpoint stays the previous
        // epoch's, so a resume trains this epoch again and stops here again.
        records.append(record)
        stoppedOnOverfit = record.epoch
        if let run, writesFiles { try run.writeMetrics(records) }
        for hook in hooks { try hook.trainerFinishedEpoch(self, record: record) }
        break
      }
      records.append(record)
      try saveCheckpoints(after: epoch, record: record)
      for hook in hooks { try hook.trainerFinishedEpoch(self, record: record) }
    }
    return records
  }

  // MARK: one epoch

  private func trainEpoch(_ epoch: Int) throws -> EpochRecord {
    let c = configuration
    let agrActive = c.agrActive(inEpoch: epoch)
    Torch.manualSeed(BatchLoader.mix(c.seed ^ 0x5EED_0001, UInt64(epoch)))  // the attacks' random starts
    let augment = try EpochAugmentation(c, epoch: epoch, device: device)
    var batches = try trainBatches.epochBatches(epoch: epoch)
    let batchCount = batches.count
    let start = Date()
    var metrics = EpochMetrics()
    var lastLearningRate = 0.0
    var index = 0
    // Free-AT trains each batch `replays` times, each replay one optimizer step (every other method: once).
    let replays = c.perturbation.replayCount
    while let batch = try batches.next() {
      var images = try augment(batch.images)
      var labels = batch.labels
      // Every rank loads and augments the global batch (the same draws as one process) and keeps its rows; a
      // streamed batch holds only this rank's rows already (`Batch.shard`).
      let shard = batch.shard ?? dataParallel?.shard(of: labels.shape[0])
      if let shard, batch.shard == nil {
        images = try images.slice(shard.rows.lowerBound, shard.rows.upperBound)
        labels = try labels.slice(shard.rows.lowerBound, shard.rows.upperBound)
      }
      if let memoryFormat { images = try images.contiguous(memoryFormat) }
      try step.freeAdversarial?.beginBatch()
      for replay in 0..<replays {
        let position = index * replays + replay
        let rate = c.schedule.rate(epoch: epoch, fraction: Double(position) / Double(batchCount * replays))
        optimizer.learningRate = rate
        lastLearningRate = rate
        let iteration = epoch * batchCount * replays + position
        let measure = c.diagnosticsEvery > 0 && iteration % c.diagnosticsEvery == 0 && c.method.isAdversarial
        // A graph's outputs are overwritten by its next replay: copies are kept until the log window is read.
        let output = try graphedStep.map { try $0(images: images, labels: labels, agr: agrActive, measure: measure).copied() }
          ?? step(images: images, labels: labels, agr: agrActive, measure: measure,
                  perturbWeights: epoch >= (c.awpWarmup ?? 0), shard: shard)
        for hook in hooks { try hook.trainerFinishedStep(self, iteration: iteration, output: output) }
        if measure, let stats = output.statistics {
          let sample = GradientSample(
            epoch: epoch + 1, iteration: iteration, agrActive: agrActive,
            cosine: try stats.cosine.toArray(Double.self), cleanNorm: try stats.cleanNorm.toArray(Double.self),
            adversarialNorm: try stats.adversarialNorm.toArray(Double.self))
          diagnosticsBuffer.append(sample)
          for hook in hooks { try hook.trainerTookSample(self, sample: sample) }
        }
        try metrics.add(output, rows: shard?.total ?? batch.labels.shape[0])
      }
      index += 1
      // All ranks stop at the same step: each one's Ctrl-C is shared with the others.
      if try dataParallel?.anyRank(StopRequest.isRequested) ?? StopRequest.isRequested {
        throw TrainingError.interrupted(epoch: epoch + 1, step: index, steps: batchCount)
      }
      if metrics.pendingCount >= c.logEvery || index == batchCount {
        try metrics.flush(epochIndex: epoch, firstStep: index * replays - metrics.pendingCount)
        let elapsed = Date().timeIntervalSince(start)
        let stepsLeft = Double(batchCount - index + (c.epochs - epoch - 1) * batchCount)
        let window = metrics.window
        let progress = BatchProgress(
          epoch: epoch + 1, epochs: c.epochs, batch: index, batches: batchCount,
          loss: window.loss / Double(window.steps), cleanAccuracy: window.ratio(window.clean),
          adversarialAccuracy: window.ratio(window.adversarial),
          imagesPerSecond: Double(metrics.epoch.seen) / Swift.max(elapsed, 1e-9),
          etaSeconds: elapsed / Double(index) * stepsLeft, learningRate: lastLearningRate, agrActive: agrActive)
        for hook in hooks { try hook.trainerReported(self, progress: progress) }
      }
    }
    let trainSeconds = Date().timeIntervalSince(start)
    let evaluation = try evaluate(epoch: epoch)
    let averaged = try average.map { average in try average.withAveragedWeights { try evaluate(epoch: epoch) } }
    let gop = try metrics.gopRates(kinds: kinds)
    let sums = metrics.epoch
    // The catastrophic-overfitting check: PGD on the held batch, and the training attack too under the gap rule.
    let overfitAccuracies = try overfitBatch.map { held in
      let images = try memoryFormat.map { try held.images.contiguous($0) } ?? held.images
      let pgd = try OverfitCheck.robustAccuracy(
        model: model, images: images, labels: held.labels, epsilon: c.perturbation.epsilon, steps: c.overfitSteps,
        stepSize: c.evaluationStepSize, seed: BatchLoader.mix(c.seed ^ 0x5EED_0005, UInt64(epoch)))
      let attack = try c.overfitGap.map { _ in
        try OverfitCheck.trainingAttackAccuracy(model: model, perturbation: c.perturbation, images: images, labels: held.labels,
                                                seed: BatchLoader.mix(c.seed ^ 0x5EED_0006, UInt64(epoch)))
      }
      return (pgd: pgd, trainingAttack: attack)
    }
    var record = EpochRecord(
      epoch: epoch + 1, learningRate: lastLearningRate, agrActive: agrActive,
      trainLoss: sums.loss / Double(Swift.max(sums.steps, 1)),
      trainCleanAccuracy: sums.ratio(sums.clean), trainAdversarialAccuracy: sums.ratio(sums.adversarial),
      testCleanLoss: evaluation.cleanLoss, testCleanAccuracy: evaluation.cleanAccuracy,
      testRobustLoss: evaluation.robustLoss, testRobustAccuracy: evaluation.robustAccuracy,
      gopRate: gop?.overall, gopRateByKind: gop?.byKind, averagedTestCleanAccuracy: averaged?.cleanAccuracy,
      averagedTestRobustAccuracy: averaged?.robustAccuracy, seconds: Date().timeIntervalSince(start),
      imagesPerSecond: Double(sums.seen) / Swift.max(trainSeconds, 1e-9))
    record.peakMemoryBytes = PeakMemory.bytes(on: device)
    if let overfitAccuracies {
      record.overfitCheckAccuracy = overfitAccuracies.pgd
      record.overfitCheckTrainingAttackAccuracy = overfitAccuracies.trainingAttack
      var flagged = OverfitCheck.isOverfit(
        accuracy: overfitAccuracies.pgd, earlier: records.compactMap(\.overfitCheckAccuracy),
        drop: c.overfitDrop ?? OverfitCheck.defaultDrop, reference: c.overfitReference ?? .previous)
      if let attack = overfitAccuracies.trainingAttack, let gap = c.overfitGap {
        flagged = flagged || OverfitCheck.isOverfit(trainingAttackAccuracy: attack, pgdAccuracy: overfitAccuracies.pgd, gap: gap)
      }
      record.catastrophicOverfitting = flagged
    }
    return record
  }

  /// Reports a graph that could not be recorded (once per graph) on standard error.
  static func warn(_ what: String) -> (String) -> Void {
    { reason in FileHandle.standardError.write(Data("warning: CUDA graphs: \(what): \(reason)\n".utf8)) }
  }
}
