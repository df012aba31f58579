import Foundation
import Testing

@testable import RobustTraining

/// The step's gradient seam: AGR is the default transform; another one replaces it without touching the step.
@Suite(.serialized) struct GradientTransformTests {
  /// Keeps the method's gradient (and reports AGR's statistics): with it, an AGR step is a plain method step.
  final class KeepMethodGradient: GradientTransform {
    var calls = 0
    func transform(method: [Tensor], clean: [Tensor]) throws -> (gradients: [Tensor], statistics: GradientReconstruction.Statistics) {
      calls += 1
      return (method, try GradientReconstruction().reconstruct(clean: clean, adversarial: method).statistics)
    }
  }

  func run(agr: Bool, transform: (any GradientTransform)?) throws -> [Float] {
    Torch.manualSeed(11)
    let model = try SmallCNN(classCount: 10, dropout: 0)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9)
    let step = TrainingStep(model: model, optimizer: optimizer, method: .trades,
                            perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1, loss: .kl),
                            reconstruction: GradientReconstruction(clip: 0.1))
    if let transform { step.gradientTransform = transform }
    let generator = try Generator(seed: 3)
    for _ in 0..<2 {
      let images = try Tensor.rand([6, 1, 28, 28], generator: generator)
      let labels = try Tensor.randint(0, 10, [6], generator: generator)
      Torch.manualSeed(12)
      let output = try step(images: images, labels: labels, agr: agr)
      #expect(output.statistics != nil || !agr)
    }
    return try model.parameters.flatMap { try $0.toArray(Float.self) }
  }

  @Test func aReplacedTransformSteersTheUpdate() throws {
    let keep = KeepMethodGradient()
    let steered = try run(agr: true, transform: keep)
    #expect(keep.calls == 2)
    let plain = try run(agr: false, transform: nil)
    #expect(steered == plain, "keeping the method gradient must give the method's own step")
    let reconstructed = try run(agr: true, transform: nil)
    #expect(reconstructed != plain, "the default transform (AGR) changes the update")
  }

  @Test func theDefaultTransformIsAGRByPath() throws {
    let model = try SmallCNN(classCount: 10)
    let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1), method: .at,
                            perturbation: TrainingPerturbation(), reconstruction: GradientReconstruction(clip: 0.2))
    let agr = try #require(step.gradientTransform as? AdaptiveGradientReconstruction)
    #expect(agr.reconstruction.clip == 0.2 && step.reconstructionPath == .perTensor)
    step.reconstructionPath = .flat
    #expect(agr.path == .flat)
  }
}

/// The epoch loop's hooks: each sees every step and epoch; the weight average is one of them.
@Suite(.serialized) struct TrainingHookTests {
  final class Counter: TrainingHook {
    var iterations: [Int] = []
    var epochs: [Int] = []
    func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws { iterations.append(iteration) }
    func trainerFinishedEpoch(_ trainer: Trainer, record: EpochRecord) throws { epochs.append(record.epoch) }
  }

  @Test func hooksSeeEveryStepAndEpoch() throws {
    var c = TrainingConfiguration()
    c.epochs = 2
    c.batchSize = 16
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1)
    c.evalSteps = 1
    c.weightAveraging = 0.9
    Torch.manualSeed(1)
    let trainer = try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 48, seed: 1),
                              test: try halvesDataset(count: 16, seed: 2), run: nil)
    #expect(trainer.hooks.count == 1 && trainer.hooks.first === trainer.average)
    let counter = Counter()
    trainer.hooks.append(counter)
    try trainer.train()
    #expect(counter.iterations == Array(0..<6))
    #expect(counter.epochs == [1, 2])
    #expect(trainer.average?.updates == 6)
  }
}
