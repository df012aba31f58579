import Foundation
import Testing

@testable import RobustTraining

/// SGD against the update formulas of `torch.optim.SGD`, computed here in plain Doubles.
@Suite struct OptimizerTests {
  /// The reference: PyTorch's documented SGD step for one parameter vector.
  struct ReferenceSGD {
    var lr, momentum, dampening, weightDecay: Double
    var nesterov: Bool
    var buffer: [Double]? = nil

    mutating func step(_ p: inout [Double], _ g: [Double]) {
      var d = zip(g, p).map { $0 + weightDecay * $1 }
      if momentum != 0 {
        if let b = buffer {
          buffer = zip(b, d).map { momentum * $0 + (1 - dampening) * $1 }
        } else {
          buffer = d
        }
        d = nesterov ? zip(d, buffer!).map { $0 + momentum * $1 } : buffer!
      }
      p = zip(p, d).map { $0 - lr * $1 }
    }
  }

  static let gradients: [[Double]] = [[0.5, 0.1, -1], [-0.3, 0.2, 0.7], [0.1, 0.1, 0.1], [2, -1, 0]]

  func run(momentum: Double, dampening: Double, weightDecay: Double, nesterov: Bool) throws {
    let start: [Double] = [1, -2, 0.5]
    let p = try Tensor(start, shape: [3]).requiresGrad(true)
    let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: momentum, dampening: dampening,
                      weightDecay: weightDecay, nesterov: nesterov)
    var reference = ReferenceSGD(lr: 0.1, momentum: momentum, dampening: dampening, weightDecay: weightDecay,
                                 nesterov: nesterov)
    var expected = start
    for g in Self.gradients {
      try sgd.step(gradients: [try Tensor(g)])
      reference.step(&expected, g)
      let got = try p.toArray(Double.self)
      for (a, b) in zip(got, expected) { #expect(abs(a - b) < 1e-12, "\(got) vs \(expected)") }
    }
  }

  @Test func plainSGD() throws { try run(momentum: 0, dampening: 0, weightDecay: 0, nesterov: false) }
  @Test func momentumAndWeightDecay() throws { try run(momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: false) }
  @Test func dampening() throws { try run(momentum: 0.9, dampening: 0.3, weightDecay: 1e-2, nesterov: false) }
  @Test func nesterov() throws { try run(momentum: 0.9, dampening: 0, weightDecay: 5e-4, nesterov: true) }

  @Test func firstStepByHand() throws {
    // p = 1, g = 0.5, wd = 0.1: d = 0.5 + 0.1 = 0.6, buffer = 0.6, p = 1 - 0.1 * 0.6 = 0.94
    let p = try Tensor([1.0], shape: [1]).requiresGrad(true)
    let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: 0.9, weightDecay: 0.1)
    try sgd.step(gradients: [try Tensor([0.5])])
    #expect(abs(try p.item() - 0.94) < 1e-12)
    // second: d = 0.5 + 0.094 = 0.594, buffer = 0.9 * 0.6 + 0.594 = 1.134, p = 0.94 - 0.1134 = 0.8266
    try sgd.step(gradients: [try Tensor([0.5])])
    #expect(abs(try p.item() - 0.8266) < 1e-12)
  }

  @Test func stepUsesDotGradAndSkipsParametersWithoutOne() throws {
    let a = try Tensor([2.0, 3.0]).requiresGrad(true)
    let b = try Tensor([5.0]).requiresGrad(true)
    let sgd = try SGD(parameters: [a, b], learningRate: 0.5, momentum: 0.9)
    try (try (a * a).sum()).backward()  // grad 2a = [4, 6]
    try sgd.step()
    #expect(try a.toArray(Double.self) == [0, 0])
    #expect(try b.toArray(Double.self) == [5])
    #expect(sgd.momentumBuffers[1] == nil)
    try sgd.zeroGrad()
    #expect(a.grad == nil)
  }

  @Test func invalidSettingsThrow() throws {
    let p = try Tensor([1.0]).requiresGrad(true)
    #expect(throws: TorchError.self) { try SGD(parameters: [p], learningRate: -1) }
    #expect(throws: TorchError.self) { try SGD(parameters: [p], learningRate: 0.1, nesterov: true) }
    let sgd = try SGD(parameters: [p], learningRate: 0.1)
    #expect(throws: TorchError.self) { try sgd.step(gradients: []) }
  }

  @Test func multiStepScheduleOfThePaper() throws {
    let s = try LearningRateSchedule.parse("multistep:100,150", base: 0.1, epochs: 200)
    #expect(s.rate(epoch: 0) == 0.1)
    #expect(s.rate(epoch: 99, fraction: 0.99) == 0.1)
    #expect(abs(s.rate(epoch: 100) - 0.01) < 1e-15)
    #expect(abs(s.rate(epoch: 150) - 0.001) < 1e-15)
    #expect(abs(s.rate(epoch: 199) - 0.001) < 1e-15)
  }

  @Test func cosineAndOneCycle() throws {
    let c = LearningRateSchedule.cosine(base: 0.2, epochs: 10, minimum: 0)
    #expect(abs(c.rate(epoch: 0) - 0.2) < 1e-15)
    #expect(abs(c.rate(epoch: 5) - 0.1) < 1e-12)
    #expect(abs(c.rate(epoch: 4, fraction: 0.5) - 0.1 * (1 + cos(Double.pi * 0.45))) < 1e-12)
    let o = LearningRateSchedule.oneCycle(maximum: 0.2, epochs: 10)
    #expect(o.rate(epoch: 0) == 0)
    #expect(abs(o.rate(epoch: 2) - 0.1) < 1e-12)
    #expect(abs(o.rate(epoch: 4) - 0.2) < 1e-12)
    #expect(abs(o.rate(epoch: 7) - 0.1) < 1e-12)
    #expect(throws: ScheduleError.self) { try LearningRateSchedule.parse("warp", base: 0.1, epochs: 10) }
    #expect(throws: ScheduleError.self) { try LearningRateSchedule.parse("multistep:a,b", base: 0.1, epochs: 10) }
  }
}
