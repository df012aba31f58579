import Foundation
import Testing
import Torch

@testable import RobustTraining

/// Batches mixed from the real training set and extra images (`MixedBatchLoader`, DM-Improves-AT's
/// `SemiSupervisedSampler`): the asked share in every batch, a function of (seed, epoch), exact over a resume.
@Suite(.serialized) struct MixedBatchTests {
  /// 20 real 4x4 grey images (every pixel = its index) of classes 0-4, and an archive of 50 extra images.
  func loader(_ folder: TemporaryFolder, fraction: Double, epochSize: Int?, batchSize: Int = 10, seed: UInt64 = 3) throws
    -> MixedBatchLoader
  {
    let real = try LabeledImages(name: "real", pixels: (0..<20).flatMap { [UInt8](repeating: UInt8($0), count: 16) },
                                 labels: (0..<20).map { Int64($0 % 5) }, channels: 1, height: 4, width: 4, classCount: 5)
    let url = folder.file("extra.npz")
    if !FileManager.default.fileExists(atPath: url.path) {
      try NPZFixture.write(folder, n: 50, h: 4, w: 4, c: 1, labels: (0..<50).map { $0 % 5 })
    }
    let extra = try ExtraImages(path: url.path, fitting: real)
    return try MixedBatchLoader(real: try BatchLoader(real, batchSize: batchSize, seed: seed), extra: extra,
                                fraction: fraction, epochSize: epochSize)
  }

  func batches(_ loader: MixedBatchLoader, epoch: Int) throws -> [Batch] {
    var batches = try loader.batches(epoch: epoch)
    var out = [Batch]()
    while let batch = try batches.next() { out.append(batch) }
    return out
  }

  func contents(_ batches: [Batch]) throws -> [[Double]] {
    try batches.map { try $0.images.to(.float64).toArray(Double.self) + $0.labels.to(.float64).toArray(Double.self)
      + $0.indices.to(.float64).toArray(Double.self) }
  }

  @Test func everyBatchHoldsTheAskedShareOfExtraImages() throws {
    let folder = try TemporaryFolder()
    let mixed = try loader(folder, fraction: 0.7, epochSize: 45)
    #expect(mixed.extraPerBatch == 7 && mixed.realPerBatch == 3 && mixed.batchCount == 5)
    let all = try batches(mixed, epoch: 0)
    #expect(all.count == 5)
    var realSeen = [Int]()
    var layouts = Set<[Bool]>()
    for batch in all {
      #expect(batch.images.shape == [10, 1, 4, 4] && batch.labels.shape == [10])
      let indices = try batch.indices.toArray(Int64.self).map { Int($0) }
      let extraRows = indices.filter { $0 >= 20 }.map { $0 - 20 }
      #expect(extraRows.count == 7)
      realSeen += indices.filter { $0 < 20 }
      // each row holds the image and label its index names
      let pixels = try (batch.images * 255 + 0.5).to(.int64).toArray(Int64.self)
      let labels = try batch.labels.toArray(Int64.self)
      let imagePattern = NPZFixture.images(50, 4, 4, 1)
      for (k, index) in indices.enumerated() {
        let row = Array(pixels[k * 16..<(k + 1) * 16])
        if index < 20 {
          #expect(row == [Int64](repeating: Int64(index), count: 16) && labels[k] == Int64(index % 5))
        } else {
          #expect(row == imagePattern[(index - 20) * 16..<(index - 19) * 16].map { Int64($0) } && labels[k] == Int64((index - 20) % 5))
        }
      }
      layouts.insert(indices.map { $0 >= 20 })
    }
    // real and extra rows are shuffled together, not one block after the other
    #expect(layouts.count > 1)
    // the real images of an epoch are a permutation's first ones: no repeats within a pass
    #expect(Set(realSeen).count == 15)
  }

  /// Their rounding: int(batch_size * unsup_fraction); an epoch longer than the real set takes fresh permutations.
  @Test func theShareRoundsAsTheirsAndLongEpochsPassOverTheRealSetAgain() throws {
    let folder = try TemporaryFolder()
    #expect(try loader(folder, fraction: 0.29, epochSize: nil, batchSize: 100).extraPerBatch == 28)  // 28.999999999999996
    #expect(try loader(folder, fraction: 1, epochSize: nil).realPerBatch == 0)
    let mixed = try loader(folder, fraction: 0.5, epochSize: 100)
    #expect(mixed.batchCount == 10)
    let real = try mixed.plan(epoch: 2).realOrder.toArray(Int64.self)
    #expect(real.count == 50)
    #expect(Set(real[0..<20]) == Set((0..<20).map(Int64.init)) && Set(real[20..<40]) == Set((0..<20).map(Int64.init)))
    // the default epoch: the real set's size, in full batches
    #expect(try loader(folder, fraction: 0.5, epochSize: nil, batchSize: 8).batchCount == 3)
    let all = try batches(try loader(folder, fraction: 1, epochSize: 12, batchSize: 4), epoch: 0)
    #expect(try all.allSatisfy { try $0.indices.toArray(Int64.self).allSatisfy { $0 >= 20 } })
  }

  @Test func batchesAreAFunctionOfSeedAndEpoch() throws {
    let folder = try TemporaryFolder()
    let a = try contents(try batches(try loader(folder, fraction: 0.7, epochSize: 45), epoch: 1))
    let b = try contents(try batches(try loader(folder, fraction: 0.7, epochSize: 45), epoch: 1))
    #expect(a == b)
    #expect(try contents(try batches(try loader(folder, fraction: 0.7, epochSize: 45), epoch: 2)) != a)
    #expect(try contents(try batches(try loader(folder, fraction: 0.7, epochSize: 45, seed: 4), epoch: 1)) != a)
    // a batch taken on its own is the one the epoch's sequence gives (a resume mid-epoch would find it)
    let mixed = try loader(folder, fraction: 0.7, epochSize: 45)
    #expect(try contents([try mixed.batches(epoch: 1).batch(at: 3)]) == [a[3]])
    var later = try mixed.batches(epoch: 1, startingAt: 4)
    #expect(try contents([try later.next()!]) == [a[4]])
    #expect(try later.next() == nil)
  }

  /// A run with extra data stopped after its first epoch and resumed ends bit for bit where the straight run ends.
  @Test func aRunWithExtraDataResumesExactly() throws {
    let folder = try TemporaryFolder()
    let url = try NPZFixture.write(folder, n: 64, h: 8, w: 8, c: 1, labels: (0..<64).map { ($0 / 7) % 2 })
    var c = TrainingConfiguration()
    c.method = .at
    c.agrStartEpoch = 2
    c.epochs = 3
    c.batchSize = 16
    c.learningRate = 0.05
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.evalSteps = 2
    c.augment = true
    c.seed = 5
    c.extraData = url.path
    c.extraFraction = 0.75
    c.epochSize = 40
    let (straight, full, resumed, continued) = try straightAndResumed(c)
    try expectSameState(straight.model, resumed.model)
    #expect(continued.map(withoutTimings) == full.map(withoutTimings))
    // 40 samples in batches of 16: 3 full batches an epoch, 12 extra images in each
    #expect(straight.mixedLoader?.batchCount == 3 && straight.mixedLoader?.extraPerBatch == 12)
  }

  @Test func settingsWithoutExtraDataAreRefused() throws {
    var c = TrainingConfiguration()
    c.extraFraction = 0.5
    #expect(throws: ConfigurationError.self) { try c.validate() }
    c = TrainingConfiguration()
    c.epochSize = 100
    #expect(throws: ConfigurationError.self) { try c.validate() }
    c.extraData = "x.npz"
    c.epochSize = 0
    #expect(throws: ConfigurationError.self) { try c.validate() }
    c.epochSize = nil
    c.extraFraction = 1.5
    #expect(throws: ConfigurationError.self) { try c.validate() }
  }
}
