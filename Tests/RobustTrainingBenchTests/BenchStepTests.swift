import Foundation
import Testing
import Torch

@testable import RobustTraining
@testable import RobustTrainingBench

/// `agr bench` times the trainer's own step: for every method, with and without AGR and AWP, the step the
/// bench assembles and the one a `Trainer` of the same configuration holds take the same settings and, from
/// the same weights and seed, the same update.
@Suite(.serialized) struct BenchStepTests {
  static let cases: [BenchmarkCase] = [TrainingMethod.at, .trades, .mart, .avmixup].flatMap { method in
    [(false, false), (true, false), (false, true), (true, true)].map { agr, awp in
      BenchmarkCase(model: .smallCNN, method: method, agr: agr, reconstructionPath: .perTensor, batchSize: 4,
                    attackSteps: 2, awp: awp)
    }
  }

  static func images(count: Int) throws -> LabeledImages {
    try LabeledImages(name: "noise", pixels: (0..<(count * 28 * 28)).map { UInt8(($0 * 37) % 251) },
                      labels: (0..<count).map { Int64($0 % 10) }, channels: 1, height: 28, width: 28, classCount: 10)
  }

  @Test(arguments: cases) func theBenchTimesTheTrainersStep(_ c: BenchmarkCase) throws {
    Torch.manualSeed(3)
    let bench = try StepBenchmark.makeStep(c, device: .cpu)
    let data = try Self.images(count: 8)
    let trainer = try Trainer(configuration: c.configuration,
                              model: try StepBenchmark.makeModel(c.model, device: .cpu, channelsLast: false),
                              train: data, test: data, run: nil,
                              awpProxy: try StepBenchmark.makeModel(c.model, device: .cpu, channelsLast: false))
    let ours = trainer.step
    #expect(type(of: ours.objective) == type(of: bench.objective))
    #expect(ours.objective.repeatsForwardPasses == bench.objective.repeatsForwardPasses)
    #expect(ours.perturbation == bench.perturbation && ours.precision == bench.precision)
    #expect(ours.cleanPassInTrainMode == bench.cleanPassInTrainMode && ours.reconstructionPath == bench.reconstructionPath)
    #expect(ours.weightPerturbation?.gamma == bench.weightPerturbation?.gamma)
    #expect(ours.weightPerturbation?.proxyLearningRate == bench.weightPerturbation?.proxyLearningRate)
    #expect(type(of: ours.optimizer) == type(of: bench.optimizer))

    try Autograd.withNoGrad {
      try Foreach.copy_(ours.model.stateDict().map(\.tensor), from: bench.model.stateDict().map(\.tensor))
    }
    let (images, labels) = try StepBenchmark.batch(c.model, size: c.batchSize, device: .cpu, channelsLast: false)
    for _ in 0..<2 {
      Torch.manualSeed(11)
      let a = try bench(images: images, labels: labels, agr: c.agr)
      Torch.manualSeed(11)
      let b = try ours(images: images, labels: labels, agr: c.agr)
      #expect(try a.loss.item() == b.loss.item(), "\(c.tag)")
    }
    for ((name, x), (_, y)) in zip(bench.model.stateDict(), ours.model.stateDict()) {
      #expect(try (x - y).abs().max().item() == 0, "\(c.tag): \(name)")
    }
  }
}
