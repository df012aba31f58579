import Foundation
import Testing

@testable import RobustTraining

/// GradAlign (docs/fast-at.md): the penalty and its weight gradient equal the formula written out for a linear
/// model, whose cross-entropy input gradient is known; training with it runs with AGR on and off and resumes exactly.
@Suite(.serialized) struct GradAlignTests {
  final class LinearNet: Classifier {
    let fc = try! Linear(6, 3)
    let classCount = 3
    var isTraining = true
    var children: [(name: String, module: any Module)] { [("fc", fc)] }
    func callAsFunction(_ x: Tensor) throws -> Tensor { try fc(try x.flattened(from: 1)) }
  }

  @Test func penaltyAndItsWeightGradientAreTheFormula() throws {
    Torch.manualSeed(4)
    let model = LinearNet()
    let images = try Tensor.rand([5, 1, 2, 3])
    let labels = try Tensor([0, 1, 2, 1, 0] as [Int64], shape: [5])
    let noise = try (try Tensor.rand([5, 1, 2, 3]) * 2 - 1) * 0.1
    let penalty = try GradientAlignment(lambda: 0.3, epsilon: 0.1).penalty(model: model, images: images, labels: labels, noise: noise)
    // a linear model's batch-mean CE input gradient: (softmax(z) - onehot(y)) W / N (the 1/N cancels in the cosine)
    let onehot = try labels.oneHot(classes: 3).to(.float32)
    func inputGradient(_ x: Tensor) throws -> Tensor {
      try (try Functional.softmax(try model(x), dim: 1) - onehot).matmul(model.fc.weight)
    }
    let a = try inputGradient(images).detached()
    let b = try inputGradient(try images + noise)
    let cosines = try (a * b).sum(dims: [1]) / (try a.norm(2, dims: [1]) * b.norm(2, dims: [1]))
    let expected = try (1 - cosines.mean()) * 0.3
    #expect(try penalty.item() > 0)
    #expect(abs(try penalty.item() - expected.item()) < 1e-6)
    let weights = [model.fc.weight, model.fc.bias!]
    let got = try Autograd.gradients(of: penalty, wrt: weights)
    let want = try Autograd.gradients(of: expected, wrt: weights)
    for (g, w) in zip(got, want) {
      #expect(try (g - w).abs().max().item() < 1e-6)
      #expect(try w.abs().max().item() > 1e-4)  // the penalty does move the weights (double backpropagation)
    }
  }

  func configuration(agr: Bool) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.method = .at
    c.agr = agr
    c.epochs = 2
    c.agrStartEpoch = 2
    c.batchSize = 16
    c.learningRate = 0.05
    c.schedule = .constant(0.05)
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.perturbation.attack = .fgsmRS
    c.gradAlign = 0.2
    c.evalSteps = 2
    c.diagnosticsEvery = 2
    c.seed = 3
    return c
  }

  @Test func trainsWithAndWithoutAGRAndResumesExactly() throws {
    for agr in [false, true] {
      let c = configuration(agr: agr)
      try c.validate()
      let runs = try straightAndResumed(c)
      try expectSameState(runs.straight.model, runs.resumed.model)
      #expect(runs.continued.map(\.trainLoss) == runs.full.map(\.trainLoss), "AGR \(agr)")
      #expect(runs.full.allSatisfy { $0.trainLoss.isFinite })
      // the penalty is in the loss: the same run without it trains otherwise
      var plain = c
      plain.gradAlign = nil
      let without = try straightAndResumed(plain)
      #expect(without.full.map(\.trainLoss) != runs.full.map(\.trainLoss), "AGR \(agr)")
    }
  }

  @Test func badSettingsAreRefusedByKey() {
    func refused(_ change: (inout TrainingConfiguration) -> Void) -> String? {
      var c = TrainingConfiguration()
      change(&c)
      return (#expect(throws: ConfigurationError.self) { try c.validate() })?.key
    }
    #expect(refused { $0.gradAlign = 0 } == "grad_align")
    #expect(refused { $0.gradAlign = .nan } == "grad_align")
    #expect(refused { $0.gradAlign = 0.2; $0.method = .standard } == "grad_align")
    #expect(refused { $0.gradAlign = 0.2; $0.awp = true } == "grad_align")
  }
}
