import Foundation
import Testing

@testable import RobustTraining

/// The weight average (EMA) against its formula, and in a run: evaluated beside the model, saved, chosen for
/// the best checkpoint, and resumed exactly.
@Suite(.serialized) struct WeightAverageTests {
  @Test func averagesFollowTheFormulaWithItsWarmUp() throws {
    let model = TinyConvNet()
    let average = try WeightAverage(model: model, decay: 0.995)
    #expect(average.decay(atUpdate: 1) == 2.0 / 11 && average.decay(atUpdate: 2000) == 0.995)
    let weight = model.conv.weight
    var expected = try weight.toArray(Float.self).map(Double.init)
    for t in 1...3 {
      try Autograd.withNoGrad { try weight.add_(Double(t)) }  // the "training" moves every weight by t
      try average.update()
      let d = min(0.995, Double(1 + t) / Double(10 + t))
      let now = try weight.toArray(Float.self).map(Double.init)
      expected = zip(expected, now).map { d * $0 + (1 - d) * $1 }
    }
    let got = try average.stateDict.first { $0.name == "conv.weight" }!.tensor.toArray(Float.self)
    #expect(zip(got, expected).allSatisfy { abs(Double($0) - $1) < 1e-5 })
    #expect(average.updates == 3)
    // the batch counter is copied, not averaged
    try Autograd.withNoGrad { try model.bn.batchesTracked.add_(7) }
    try average.update()
    #expect(try average.stateDict.first { $0.name == "bn.num_batches_tracked" }!.tensor.item() == 7)
    // averaged weights are swapped in for the body and out afterwards
    let own = try weight.clone()
    let inside = try average.withAveragedWeights { try weight.clone() }
    #expect(try (inside - average.stateDict.first { $0.name == "conv.weight" }!.tensor).abs().max().item() == 0)
    #expect(try (weight - own).abs().max().item() == 0)
  }

  func configuration() -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.epochs = 3
    c.batchSize = 16
    c.learningRate = 0.05
    c.schedule = .constant(0.05)
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1)
    c.evalSteps = 2
    c.diagnosticsEvery = 0
    c.weightAveraging = 0.9
    c.seed = 4
    return c
  }

  func trainer(_ c: TrainingConfiguration, run: RunDirectory?, seed: UInt64) throws -> Trainer {
    Torch.manualSeed(seed)
    return try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 64, seed: 1),
                       test: try halvesDataset(count: 32, seed: 2), run: run)
  }

  @Test func aRunEvaluatesSavesAndResumesTheAverage() throws {
    let straight = temporaryRun("ema-straight")
    let stopped = temporaryRun("ema-stopped")
    defer {
      try? FileManager.default.removeItem(at: straight.url)
      try? FileManager.default.removeItem(at: stopped.url)
    }
    let c = configuration()
    let full = try trainer(c, run: straight, seed: 1).train()
    #expect(full.allSatisfy { $0.averagedTestCleanAccuracy != nil && $0.averagedTestRobustAccuracy != nil })
    #expect(full.map(\.averagedTestCleanAccuracy) != full.map(\.testCleanAccuracy), "the average is not the model")
    let averaged = try SafeTensors.read(from: straight.averagedModel)
    #expect(averaged.metadata["epoch"] == "3")
    // best.safetensors holds the average of the epoch with the best averaged PGD accuracy
    let scores = full.map { $0.averagedTestRobustAccuracy! }
    let bestEpoch = scores.indices.first { scores[$0] == scores.max()! }! + 1
    let best = try SafeTensors.read(from: straight.bestModel)
    #expect(best.metadata["epoch"] == String(bestEpoch) && best.metadata["weights"] == "averaged")

    try trainer(c, run: stopped, seed: 1).train(until: 1)
    let resumed = try trainer(c, run: stopped, seed: 99)
    let next = try resumed.restore(from: stopped)
    #expect(next == 1 && resumed.average?.updates == 4)
    let continued = try resumed.train(from: next)
    #expect(continued.map(\.averagedTestRobustAccuracy) == full.map(\.averagedTestRobustAccuracy))
    #expect(try Data(contentsOf: stopped.averagedModel) == Data(contentsOf: straight.averagedModel))
    #expect(try Data(contentsOf: stopped.bestModel) == Data(contentsOf: straight.bestModel))
  }

  @Test func badAveragingSettingsAreRefusedByKey() throws {
    var c = configuration()
    c.weightAveraging = 1
    #expect((try? c.validate()) == nil)
    #expect(throws: ConfigurationError(key: "weight_averaging", "the decay must lie in (0, 1), got 1.0")) { try c.validate() }
    c.weightAveraging = nil
    c.bestBy = .averaged
    let error = #expect(throws: ConfigurationError.self) { try c.validate() }
    #expect(error?.key == "best_by")
  }
}

/// Every new piece of randomness or state resumes exactly: AVmixup's mixing weights (the per-epoch seeded
/// global generator), Cutout (its own generator per epoch) and the weight average.
@Suite(.serialized) struct NewMethodsResumeTests {
  @Test func avmixupWithCutoutAndAveragingResumesExactly() throws {
    var c = TrainingConfiguration()
    c.method = .avmixup
    c.epochs = 3
    c.batchSize = 16
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1)
    c.evalSteps = 1
    c.diagnosticsEvery = 0
    c.agrStartEpoch = 2
    c.augmentations = [.crop, .flip, .cutout]
    c.weightAveraging = 0.9
    let runs = try straightAndResumed(c)
    try expectSameState(runs.straight.model, runs.resumed.model)
    #expect(runs.continued.map(\.averagedTestRobustAccuracy) == runs.full.map(\.averagedTestRobustAccuracy))
    #expect(runs.continued.map(\.trainLoss) == runs.full.map(\.trainLoss))
  }
}
