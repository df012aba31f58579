import Foundation
import Testing

@testable import RobustTraining

/// AdamW against `torch.optim.AdamW`'s update written out in plain Doubles, parameter groups (weight decay
/// scope) for both optimizers, the optimizer seam's state round trip, and resume of an AdamW run.
@Suite(.serialized) struct AdamWTests {
  /// PyTorch's documented AdamW step (amsgrad off) for one parameter vector.
  struct ReferenceAdamW {
    var lr, beta1, beta2, eps, weightDecay: Double
    var m: [Double]
    var v: [Double]
    var t = 0

    init(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double, count: Int) {
      (self.lr, self.beta1, self.beta2, self.eps, self.weightDecay) = (lr, beta1, beta2, eps, weightDecay)
      m = Array(repeating: 0, count: count)
      v = Array(repeating: 0, count: count)
    }

    mutating func step(_ p: inout [Double], _ g: [Double]) {
      t += 1
      p = p.map { $0 * (1 - lr * weightDecay) }
      m = zip(m, g).map { $0 + (1 - beta1) * ($1 - $0) }
      v = zip(v, g).map { beta2 * $0 + (1 - beta2) * $1 * $1 }
      let stepSize = lr / (1 - pow(beta1, Double(t)))
      let correction = (1 - pow(beta2, Double(t))).squareRoot()
      p = p.indices.map { p[$0] - stepSize * m[$0] / (v[$0].squareRoot() / correction + eps) }
    }
  }

  static let gradients: [[Double]] = [[0.5, 0.1, -1], [-0.3, 0.2, 0.7], [0.1, 0.1, 0.1], [2, -1, 0], [1e-4, -3, 0.25]]

  @Test(arguments: [(0.9, 0.999, 1e-8, 0.01), (0.8, 0.99, 1e-3, 0.0), (0.0, 0.5, 1e-8, 0.1)])
  func adamWMatchesTheDocumentedUpdate(beta1: Double, beta2: Double, eps: Double, weightDecay: Double) throws {
    let start: [Double] = [1, -2, 0.5]
    let p = try Tensor(start, shape: [3]).requiresGrad(true)
    let adamw = try AdamW(parameters: [p], learningRate: 0.1, betas: (beta1, beta2), epsilon: eps, weightDecay: weightDecay)
    var reference = ReferenceAdamW(lr: 0.1, beta1: beta1, beta2: beta2, eps: eps, weightDecay: weightDecay, count: 3)
    var expected = start
    for g in Self.gradients {
      try adamw.step(gradients: [try Tensor(g)])
      reference.step(&expected, g)
      let got = try p.toArray(Double.self)
      for (a, b) in zip(got, expected) { #expect(abs(a - b) < 1e-12, "\(got) vs \(expected)") }
    }
    #expect(adamw.stepCounts == [Self.gradients.count])
  }

  @Test func aParameterWithoutAGradientKeepsItsStepCount() throws {
    let a = try Tensor([1.0, 2.0]).requiresGrad(true)
    let b = try Tensor([3.0]).requiresGrad(true)
    let adamw = try AdamW(parameters: [a, b], learningRate: 0.1)
    try adamw.step(gradients: [try Tensor([0.5, 0.5]), nil])
    try adamw.step(gradients: [try Tensor([0.5, 0.5]), try Tensor([1.0])])
    #expect(adamw.stepCounts == [2, 1])
    // b's first step: m = 0.1, v = 0.001, bias-corrected both to 1: b = 3 * (1 - 0.1 * 0.01) - 0.1 * 1 / (1 + 1e-8)
    #expect(abs(try b.item() - (3 * (1 - 0.001) - 0.1 / (1 + 1e-8))) < 1e-12)
  }

  @Test func weightDecayScopeSparesBatchNormAndBiases() throws {
    let model = TinyConvNet()
    let named = model.namedParameters()
    let decays = WeightDecayScope.weights.decays(named.map(\.tensor), weightDecay: 5e-4)
    for ((name, tensor), decay) in zip(named, decays) {
      #expect(decay == (tensor.rank > 1 ? 5e-4 : 0), "\(name)")
      #expect((decay == 0) == (name.hasSuffix("bias") || name.hasPrefix("bn.")), "\(name)")
    }
    #expect(WeightDecayScope.all.decays(named.map(\.tensor), weightDecay: 5e-4).allSatisfy { $0 == 5e-4 })
  }

  /// Parameter groups: each parameter follows its own group's decay, for SGD and AdamW alike.
  @Test func parameterGroupsDecayEachParameterByItsOwnRate() throws {
    let start: [[Double]] = [[1, -2, 0.5], [0.25, 4, -1]]
    for kind in OptimizerKind.allCases {
      let parameters = try start.map { try Tensor($0, shape: [3]).requiresGrad(true) }
      let alone = try start.map { try Tensor($0, shape: [3]).requiresGrad(true) }
      let optimizer: any Optimizer = kind == .sgd
        ? try SGD(parameters: parameters, learningRate: 0.1, momentum: 0.9, weightDecays: [0.1, 0])
        : try AdamW(parameters: parameters, learningRate: 0.1, weightDecays: [0.1, 0])
      let references: [any Optimizer] = kind == .sgd
        ? [try SGD(parameters: [alone[0]], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1),
           try SGD(parameters: [alone[1]], learningRate: 0.1, momentum: 0.9, weightDecay: 0)]
        : [try AdamW(parameters: [alone[0]], learningRate: 0.1, weightDecay: 0.1),
           try AdamW(parameters: [alone[1]], learningRate: 0.1, weightDecay: 0)]
      for g in Self.gradients.prefix(3) {
        try optimizer.step(gradients: [try Tensor(g), try Tensor(g.reversed())])
        try references[0].step(gradients: [try Tensor(g)])
        try references[1].step(gradients: [try Tensor(g.reversed())])
      }
      for (p, q) in zip(parameters, alone) { #expect(try p.toArray(Double.self) == q.toArray(Double.self), "\(kind)") }
    }
  }

  /// State written and restored through the seam continues exactly as the optimizer that wrote it.
  @Test func stateRoundTripContinuesExactly() throws {
    for kind in OptimizerKind.allCases {
      func make(_ p: Tensor) throws -> any Optimizer {
        kind == .sgd ? try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, nesterov: true)
          : try AdamW(parameters: [p], learningRate: 0.1)
      }
      let p = try Tensor([1.0, -2, 0.5]).requiresGrad(true)
      let first = try make(p)
      #expect(first.nextStepCreatesState)
      for g in Self.gradients.prefix(2) { try first.step(gradients: [try Tensor(g)]) }
      #expect(!first.nextStepCreatesState)
      let saved = Dictionary(uniqueKeysWithValues: try first.state(parameterNames: ["w"]).map { ($0.name, try $0.tensor.clone()) })
      #expect(Set(saved.keys) == (kind == .sgd ? ["momentum.w"] : ["adamw.exp_avg.w", "adamw.exp_avg_sq.w", "adamw.step.w"]))
      let q = try p.clone().requiresGrad(true)
      let second = try make(q)
      try second.restore(parameterNames: ["w"]) { saved[$0] }
      for g in Self.gradients.dropFirst(2) {
        try first.step(gradients: [try Tensor(g)])
        try second.step(gradients: [try Tensor(g)])
      }
      #expect(try p.toArray(Double.self) == q.toArray(Double.self), "\(kind)")
    }
  }

  @Test func aPartialOrMisshapenStateIsRefused() throws {
    let p = try Tensor([1.0, 2.0]).requiresGrad(true)
    let adamw = try AdamW(parameters: [p], learningRate: 0.1)
    let m = try Tensor([0.0, 0.0])
    #expect(throws: TorchError.self) { try adamw.restore(parameterNames: ["w"]) { $0 == "adamw.exp_avg.w" ? m : nil } }
    let wrong = try Tensor([0.0, 0.0, 0.0])
    #expect(throws: TorchError.self) {
      try adamw.restore(parameterNames: ["w"]) { $0.hasSuffix("step.w") ? try? Tensor([1.0], shape: []) : wrong }
    }
    #expect(throws: TorchError.self) { try AdamW(parameters: [p], learningRate: 0.1, betas: (1, 0.999)) }
    #expect(throws: TorchError.self) { try SGD(parameters: [p], learningRate: 0.1, weightDecays: [0.1, 0.2]) }
  }

  @Test func anAdamWRunResumesExactly() throws {
    var c = TrainingConfiguration()
    c.method = .at
    c.agr = true
    c.epochs = 2
    c.batchSize = 16
    c.learningRate = 1e-3
    c.schedule = .constant(1e-3)
    c.optimizer = .adamw
    c.weightDecay = 0.05
    c.weightDecayScope = .weights
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.evalSteps = 2
    c.seed = 5
    let (straight, full, resumed, continued) = try straightAndResumed(c)
    #expect(straight.optimizer is AdamW)
    try expectSameState(straight.model, resumed.model)
    #expect(continued.map(\.trainLoss) == full.map(\.trainLoss))
  }
}
