import Foundation
import Testing

@testable import RobustTraining

/// AWP against its formulas: the perturbation direction, a whole AT-AWP step written out by hand, and the
/// clean gradient AGR compares against, taken at the model's own weights.
@Suite(.serialized) struct AWPTests {
  let data = try! halvesDataset(count: 16, seed: 1)
  var images: Tensor { try! data.images.to(.float32) / 255.0 }

  /// A fresh TinyConvNet with `model`'s state.
  func twin(of model: TinyConvNet) throws -> TinyConvNet {
    let copy = TinyConvNet()
    try Autograd.withNoGrad { try Foreach.copy_(copy.stateDict().map(\.tensor), from: model.stateDict().map(\.tensor)) }
    return copy
  }

  @Test func theDirectionIsTheProxyStepScaledToEachWeightsNorm() throws {
    Torch.manualSeed(2)
    let model = TinyConvNet()
    let awp = try AdversarialWeightPerturbation(proxy: TinyConvNet(), gamma: 0.01, proxyLearningRate: 0.05)
    let adversarial = try (images + 0.05).clamped(min: 0, max: 1)
    let got = try awp.difference(for: model, adversarial: adversarial, labels: data.labels)
    #expect(got.map(\.index) == [0, 4], "conv.weight and fc.weight: the weights with more than one dimension")
    // by hand: w_p = w - lr * d(-CE)/dw on a copy in train mode, diff = |w| / (|w_p - w| + 1e-20) (w_p - w)
    let copy = try twin(of: model)
    copy.train()
    let loss = try -(try Functional.crossEntropy(try copy(adversarial), data.labels))
    let grads = try Autograd.gradients(of: loss, wrt: copy.parameters)
    for (index, diff) in got {
      let w = try model.parameters[index].toArray(Float.self).map(Double.init)
      let g = try grads[index].toArray(Float.self).map(Double.init)
      let step = g.map { -0.05 * $0 }
      let wNorm = w.map { $0 * $0 }.reduce(0, +).squareRoot()
      let stepNorm = step.map { $0 * $0 }.reduce(0, +).squareRoot()
      let expected = step.map { wNorm / (stepNorm + 1e-20) * $0 }
      let actual = try diff.toArray(Float.self).map(Double.init)
      #expect(zip(actual, expected).allSatisfy { abs($0 - $1) < 1e-5 * max(1, abs($1)) }, "parameter \(index)")
    }
  }

  @Test func anATAWPStepIsTheStepWrittenOutByHand() throws {
    Torch.manualSeed(3)
    let a = TinyConvNet()
    let b = try twin(of: a)
    let pgd = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    // the library's step
    let step = TrainingStep(model: a, optimizer: try SGD(parameters: a.parameters, learningRate: 0.1, momentum: 0.9,
                                                         weightDecay: 5e-4),
                            method: .at, perturbation: pgd, reconstruction: GradientReconstruction(), cleanPassInTrainMode: false)
    step.weightPerturbation = try AdversarialWeightPerturbation(proxy: TinyConvNet(), gamma: 0.01, proxyLearningRate: 0.01)
    Torch.manualSeed(4)
    _ = try step(images: images, labels: data.labels, agr: false)
    // by hand
    Torch.manualSeed(4)
    let adversarial = try pgd.perturb(b, images: images, labels: data.labels)
    let proxy = try twin(of: b)
    proxy.train()
    let proxyGrads = try Autograd.gradients(of: try -(try Functional.crossEntropy(try proxy(adversarial), data.labels)),
                                            wrt: proxy.parameters)
    let diffs = try [0, 4].map { i -> (Int, Tensor) in
      let w = try b.parameters[i].detached()
      let move = try (try w - (try proxyGrads[i] * 0.01)) - w
      return (i, try move * (try w.norm() / (try move.norm() + 1e-20)))
    }
    try Autograd.withNoGrad { for (i, d) in diffs { try b.parameters[i].add_(d, alpha: 0.01) } }
    b.train()
    let grads = try Autograd.gradients(of: try Functional.crossEntropy(try b(adversarial), data.labels), wrt: b.parameters)
    try SGD(parameters: b.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4).step(gradients: grads)
    try Autograd.withNoGrad { for (i, d) in diffs { try b.parameters[i].add_(d, alpha: -0.01) } }
    for ((name, x), (_, y)) in zip(a.stateDict(), b.stateDict()) {
      #expect(try (x.to(.float64) - y.to(.float64)).abs().max().item() < 1e-6, "\(name)")
    }
  }

  @Test func withAGRTheCleanGradientIsTakenAtTheModelsOwnWeights() throws {
    Torch.manualSeed(5)
    let model = TinyConvNet()
    let reference = try twin(of: model)
    let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1),
                            method: .at, perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1),
                            reconstruction: GradientReconstruction())
    step.weightPerturbation = try AdversarialWeightPerturbation(proxy: TinyConvNet(), gamma: 0.05)
    let output = try step(images: images, labels: data.labels, agr: true)
    reference.train()
    let clean = try Autograd.gradients(of: try Functional.crossEntropy(try reference(images), data.labels),
                                       wrt: reference.parameters)
    let expected = try Foreach.norms(clean).toArray(Double.self)
    let got = try #require(output.statistics).cleanNorm.toArray(Double.self)
    #expect(zip(got, expected).allSatisfy { abs($0 - $1) < 1e-6 * max(1, $1) })
  }

  /// A run with AWP (after one warm-up epoch) and AGR, stopped after epoch 1 and resumed, ends where the
  /// uninterrupted run ends: the proxy holds nothing across steps.
  @Test func anAWPRunResumesExactly() throws {
    var c = TrainingConfiguration()
    c.method = .trades
    c.epochs = 3
    c.batchSize = 16
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1, loss: .kl)
    c.evalSteps = 1
    c.diagnosticsEvery = 0
    c.agrStartEpoch = 2
    c.awp = true
    c.awpGamma = 5e-3
    c.awpWarmup = 1
    let runs = try straightAndResumed(c, awp: true)
    #expect(runs.full.allSatisfy { $0.trainLoss.isFinite })
    try expectSameState(runs.straight.model, runs.resumed.model)
  }

  @Test func badSettingsAreRefusedByKey() throws {
    var c = TrainingConfiguration()
    c.awp = true
    c.method = .standard
    #expect((#expect(throws: ConfigurationError.self) { try c.validate() })?.key == "awp")
    c.method = .trades
    c.awpGamma = -1
    #expect((#expect(throws: ConfigurationError.self) { try c.validate() })?.key == "awp_gamma")
    c.awpGamma = .nan
    #expect((#expect(throws: ConfigurationError.self) { try c.validate() })?.key == "awp_gamma")
    c.awpGamma = 5e-3
    try c.validate()
  }
}
