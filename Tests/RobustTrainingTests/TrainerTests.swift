import Foundation
import Testing

@testable import RobustTraining

/// A tiny classifier for fast end-to-end runs: 2x8x8 images, BatchNorm included so train/eval
/// mode and running statistics are exercised.
final class TinyConvNet: Classifier {
  let conv = try! Conv2d(1, 4, kernelSize: 3, padding: 1)
  let bn = try! BatchNorm2d(4)
  let fc = try! Linear(4 * 8 * 8, 2)
  let classCount = 2
  var isTraining = true
  var children: [(name: String, module: any Module)] { [("conv", conv), ("bn", bn), ("fc", fc)] }
  func callAsFunction(_ images: Tensor) throws -> Tensor {
    try fc(try bn(try conv(images)).relu().flattened(from: 1))
  }
}

/// Two classes of 8x8 images: a bright left half or a bright right half, plus noise.
func halvesDataset(count: Int, seed: UInt64, poison: Bool = false) throws -> LabeledImages {
  var generator = SplitMix64(seed: seed)
  var pixels = [UInt8]()
  var labels = [Int64]()
  for i in 0..<count {
    let label = Int64(i % 2)
    for _ in 0..<8 {
      for col in 0..<8 {
        let bright = (col < 4) == (label == 0)
        pixels.append(UInt8((bright ? 170 : 60) + Int(generator.next() % 60)))
      }
    }
    labels.append(label)
  }
  return try LabeledImages(name: poison ? "poisoned" : "halves", pixels: pixels, labels: labels, channels: 1,
                           height: 8, width: 8, classCount: 2)
}

/// A run of `configuration` on the halves data (48 training, 16 test images) trained straight through, and
/// the same run stopped after its first epoch and resumed by a fresh trainer (other initial weights, which the
/// checkpoint overwrites), for resume-exactness tests; the runs' folders are removed afterwards.
func straightAndResumed(_ configuration: TrainingConfiguration, awp: Bool = false) throws
  -> (straight: Trainer, full: [EpochRecord], resumed: Trainer, continued: [EpochRecord])
{
  let (straightRun, stoppedRun) = (temporaryRun("straight"), temporaryRun("stopped"))
  defer {
    try? FileManager.default.removeItem(at: straightRun.url)
    try? FileManager.default.removeItem(at: stoppedRun.url)
  }
  func trainer(_ run: RunDirectory, seed: UInt64) throws -> Trainer {
    Torch.manualSeed(seed)
    return try Trainer(configuration: configuration, model: TinyConvNet(), train: try halvesDataset(count: 48, seed: 1),
                       test: try halvesDataset(count: 16, seed: 2), run: run, awpProxy: awp ? TinyConvNet() : nil)
  }
  let straight = try trainer(straightRun, seed: 1)
  let full = try straight.train()
  try trainer(stoppedRun, seed: 1).train(until: 1)
  let resumed = try trainer(stoppedRun, seed: 7)
  let continued = try resumed.train(from: try resumed.restore(from: stoppedRun))
  return (straight, full, resumed, continued)
}

/// An epoch's record without its measured figures (seconds, images per second, peak memory), which no two runs share.
func withoutTimings(_ record: EpochRecord) -> EpochRecord {
  var record = record
  record.seconds = 0
  record.imagesPerSecond = 0
  record.peakMemoryBytes = nil
  return record
}

/// Every tensor of the two models' state dicts is equal.
func expectSameState(_ a: any Module, _ b: any Module, sourceLocation: SourceLocation = #_sourceLocation) throws {
  for ((name, x), (_, y)) in zip(a.stateDict(), b.stateDict()) {
    #expect(try (x.to(.float64) - y.to(.float64)).abs().max().item() == 0, "\(name)", sourceLocation: sourceLocation)
  }
}

func temporaryRun(_ name: String) -> RunDirectory {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("agr-tests-\(name)-\(UUID().uuidString)")
  return RunDirectory(url)
}

@Suite(.serialized) struct TrainerTests {
  func configuration() -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.method = .at
    c.agr = true
    c.agrStartEpoch = 2
    c.epochs = 3
    c.batchSize = 16
    c.learningRate = 0.05
    c.schedule = .multiStep(base: 0.05, milestones: [2], gamma: 0.1)
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.evalSteps = 3
    c.diagnosticsEvery = 3
    c.logEvery = 2
    c.augment = true
    c.seed = 11
    return c
  }

  func trainer(_ c: TrainingConfiguration, run: RunDirectory?, seed: UInt64, poison: Bool = false) throws -> Trainer {
    Torch.manualSeed(seed)
    return try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 96, seed: 1),
                       test: try halvesDataset(count: 40, seed: 2), run: run)
  }

  @Test func theConfiguredAGRPathIsTheOneTheStepTakes() throws {
    var c = configuration()
    #expect(try trainer(c, run: nil, seed: 3).step.reconstructionPath == .perTensor)  // the CPU's preferred path
    c.agrPath = .flat
    #expect(try trainer(c, run: nil, seed: 3).step.reconstructionPath == .flat)
  }

  @Test func learnsAndWritesTheRunDirectory() throws {
    let run = temporaryRun("learn")
    defer { try? FileManager.default.removeItem(at: run.url) }
    var c = configuration()
    c.augment = false  // 4-pixel shifts would move the bright half of an 8x8 image across the middle
    let records = try trainer(c, run: run, seed: 11).train()
    #expect(records.count == 3)
    #expect(records.last!.testCleanAccuracy > 0.9)
    #expect(records.last!.testRobustAccuracy! > 0.6)
    #expect(records.map(\.agrActive) == [false, true, true])
    #expect(records[0].gopRate == nil && records[1].gopRate != nil)
    #expect(abs(records[2].learningRate - 0.005) < 1e-12)
    for file in [run.config, run.metricsJSONL, run.metricsCSV, run.diagnostics, run.parameterIndex, run.lastModel,
                 run.lastState, run.bestModel]
    {
      #expect(FileManager.default.fileExists(atPath: file.path), "\(file.lastPathComponent) missing")
    }
    #expect(try run.readMetrics() == records)
    #expect(try run.readConfiguration() == c)
    let samples = run.readDiagnostics()
    // 6 batches per epoch, every 3rd iteration: 0, 3, ..., 15
    #expect(samples.map(\.iteration) == [0, 3, 6, 9, 12, 15])
    #expect(samples.allSatisfy { $0.cosine.count == 6 && $0.cleanNorm.count == 6 })
    #expect(run.readParameterIndex()?.kinds == [.conv, .conv, .batchNorm, .batchNorm, .linear, .linear])
    let csvLines = try String(contentsOf: run.metricsCSV, encoding: .utf8).split(separator: "\n")
    #expect(csvLines.count == 4)
  }

  /// A run stopped after epoch 1 and resumed in a fresh process-like setting (new model object,
  /// different initial weights) ends bit-for-bit where the uninterrupted run ends.
  @Test func resumeEqualsUninterrupted() throws {
    let straight = temporaryRun("straight")
    let stopped = temporaryRun("stopped")
    defer {
      try? FileManager.default.removeItem(at: straight.url)
      try? FileManager.default.removeItem(at: stopped.url)
    }
    let c = configuration()
    let a = try trainer(c, run: straight, seed: c.seed)
    let full = try a.train()

    try trainer(c, run: stopped, seed: c.seed).train(until: 1)
    // leftovers of an epoch that was cut short must not survive the resume
    try stopped.appendDiagnostics([GradientSample(epoch: 2, iteration: 99, agrActive: true, cosine: [], cleanNorm: [],
                                                  adversarialNorm: [])])
    let b = try trainer(c, run: nil, seed: 999)
    let next = try b.restore(from: stopped)
    #expect(next == 1)
    let resumed = try Trainer(configuration: c, model: b.model, train: try halvesDataset(count: 96, seed: 1),
                              test: try halvesDataset(count: 40, seed: 2), run: stopped)
    _ = try resumed.restore(from: stopped)
    let continued = try resumed.train(from: next)

    for ((name, x), (_, y)) in zip(a.model.stateDict(), resumed.model.stateDict()) {
      #expect(try x.to(.float64).toArray(Double.self) == y.to(.float64).toArray(Double.self), "\(name) differs")
    }
    #expect(continued.map(withoutTimings) == full.map(withoutTimings))
    #expect(stopped.readDiagnostics().map(\.iteration) == straight.readDiagnostics().map(\.iteration))
  }

  @Test func nonFiniteLossStopsAndKeepsTheLastGoodCheckpoint() throws {
    let run = temporaryRun("nan")
    defer { try? FileManager.default.removeItem(at: run.url) }
    var c = configuration()
    c.logEvery = 1
    try trainer(c, run: run, seed: 3).train(until: 1)
    let saved = try Data(contentsOf: run.lastModel)
    // An absurd learning rate blows the weights up within the second epoch.
    c.schedule = .constant(1e30)
    let exploding = try trainer(c, run: run, seed: 3)
    _ = try exploding.restore(from: run)
    do {
      try exploding.train(from: 1)
      Issue.record("training went on with a non-finite loss")
    } catch let TrainingError.nonFinite(epoch, step, what) {
      #expect(epoch == 2)
      #expect(step >= 1 && step <= 6)
      #expect(what.contains("loss") || what.contains("gradient"))
    }
    #expect(try Data(contentsOf: run.lastModel) == saved)
  }

  @Test func resumeOfANonRunIsAClearError() throws {
    let empty = temporaryRun("empty")
    #expect(throws: TrainingError.self) { try empty.readConfiguration() }
    let run = temporaryRun("fresh")
    try run.create()
    defer { try? FileManager.default.removeItem(at: run.url) }
    let t = try trainer(configuration(), run: nil, seed: 1)
    #expect(throws: TrainingError.self) { try t.restore(from: run) }
  }
}

/// Inside an epoch the trainer reads values back only every `logEvery` steps and for diagnostics: with
/// both out of the way, an epoch of 12 steps makes exactly as many host waits as one of 3 steps
/// (the fixed per-epoch work: evaluation, checkpoints, records).
@Suite(.serialized) struct TrainerHostWaitTests {
  func waits(trainCount: Int) throws -> Int {
    var c = TrainingConfiguration()
    c.method = .at
    c.agr = true
    c.epochs = 1
    c.batchSize = 8
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.evalSteps = 2
    c.diagnosticsEvery = 0
    c.logEvery = 1000
    c.augment = true
    Torch.manualSeed(3)
    let run = temporaryRun("waits")
    defer { try? FileManager.default.removeItem(at: run.url) }
    let trainer = try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: trainCount, seed: 1),
                              test: try halvesDataset(count: 16, seed: 2), run: run)
    let before = Torch.hostWaitCount
    _ = try trainer.train(from: 0)
    return Torch.hostWaitCount - before
  }

  @Test func stepsAddNoHostWaits() throws {
    let short = try waits(trainCount: 24)
    let long = try waits(trainCount: 96)
    #expect(long == short, "3 steps: \(short) host waits, 12 steps: \(long)")
  }
}
