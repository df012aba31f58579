import Foundation
import Testing

@testable import RobustTraining

/// Each method's loss against values computed by hand from its formula.
@Suite struct MethodLossTests {
  let clean = try! Tensor([1.0, 0.0], shape: [1, 2])
  let adversarial = try! Tensor([0.0, 1.0], shape: [1, 2])
  let labels = try! Tensor([Int64(0)])

  func softmax(_ z: [Double]) -> [Double] {
    let e = z.map { Foundation.exp($0) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  @Test func standardAndAT() throws {
    let ce = { (z: [Double]) in -Foundation.log(self.softmax(z)[0]) }
    let standard = try MethodLoss.loss(.standard, cleanLogits: clean, adversarialLogits: nil, labels: labels, beta: 6)
    #expect(abs(try standard.item() - ce([1, 0])) < 1e-12)
    let at = try MethodLoss.loss(.at, cleanLogits: nil, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try at.item() - ce([0, 1])) < 1e-12)
    #expect(throws: TorchError.self) {
      try MethodLoss.loss(.at, cleanLogits: clean, adversarialLogits: nil, labels: labels, beta: 6)
    }
  }

  @Test func trades() throws {
    let p = softmax([1, 0])
    let q = softmax([0, 1])
    let kl = zip(p, q).map { $0 * Foundation.log($0 / $1) }.reduce(0, +)
    let expected = -Foundation.log(p[0]) + 6 * kl
    let got = try MethodLoss.loss(.trades, cleanLogits: clean, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try got.item() - expected) < 1e-10)
    #expect(abs(expected - 3.0859649) < 1e-6)  // ln(1 + 1/e) + 6 * (p0 - p1), worked by hand
  }

  @Test func mart() throws {
    let p = softmax([1, 0])  // clean
    let q = softmax([0, 1])  // adversarial; the most likely class (1) is wrong, so y' = 1
    let boosted = -Foundation.log(q[0]) - Foundation.log(1.0001 - q[1] + 1e-12)
    let kl = zip(p, q).map { $0 * (Foundation.log($0) - Foundation.log($1 + 1e-12)) }.reduce(0, +)
    let expected = boosted + 6 * kl * (1.0000001 - p[0])
    let got = try MethodLoss.loss(.mart, cleanLogits: clean, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try got.item() - expected) < 1e-9)
  }

  @Test func martPicksTheSecondClassWhenTheTopOneIsTrue() throws {
    // adversarial prediction still correct: y' is the runner-up (class 2 here)
    let adv = try Tensor([3.0, 0.0, 1.0], shape: [1, 3])
    let cln = try Tensor([2.0, 0.0, 0.0], shape: [1, 3])
    let q = softmax([3, 0, 1])
    let p = softmax([2, 0, 0])
    let boosted = -Foundation.log(q[0]) - Foundation.log(1.0001 - q[2] + 1e-12)
    let kl = zip(p, q).map { $0 * (Foundation.log($0) - Foundation.log($1 + 1e-12)) }.reduce(0, +)
    let expected = boosted + 2 * kl * (1.0000001 - p[0])
    let got = try MethodLoss.loss(.mart, cleanLogits: cln, adversarialLogits: adv, labels: labels, beta: 2)
    #expect(abs(try got.item() - expected) < 1e-9)
  }
}

/// AVmixup's input and losses against their formulas, and a training step with it.
@Suite(.serialized) struct AVmixupTests {
  @Test func theInputIsAMixOfTheImageAndItsAdversarialVertex() throws {
    let images = try Tensor([Float](arrayLiteral: 0.2, 0.9, 0.5, 0.1), shape: [2, 1, 1, 2])
    let adversarial = try Tensor([Float](arrayLiteral: 0.25, 0.85, 0.45, 0.2), shape: [2, 1, 1, 2])
    Torch.manualSeed(3)
    let lambda = try Tensor.uniform([2, 1, 1, 1], low: 0, high: 1).toArray(Float.self)
    Torch.manualSeed(3)
    let mixed = try AVmixupObjective().adversarialInput(images: images, adversarial: adversarial).toArray(Float.self)
    let x = try images.toArray(Float.self), a = try adversarial.toArray(Float.self)
    for i in 0..<4 {
      let vertex = min(max(x[i] + 2 * (a[i] - x[i]), 0), 1)
      let l = lambda[i / 2]
      #expect(abs(mixed[i] - (l * x[i] + (1 - l) * vertex)) < 1e-6, "pixel \(i)")
    }
  }

  @Test func hardAndSoftLabelLosses() throws {
    let logits = try Tensor([Float](arrayLiteral: 1, 0, -1, 0.5, 0.5, 2), shape: [2, 3])
    let labels = try Tensor([Int64](arrayLiteral: 0, 2))
    let hard = AVmixupObjective()
    #expect(abs(try hard.loss(clean: nil, adversarial: logits, labels: labels).item()
      - (try Functional.crossEntropy(logits, labels).item())) < 1e-6)
    let soft = AVmixupObjective(softLabels: true)
    let images = try Tensor.zeros([2, 1, 1, 1])
    Torch.manualSeed(5)
    _ = try soft.adversarialInput(images: images, adversarial: images)
    Torch.manualSeed(5)
    let lambda = try Tensor.uniform([2, 1, 1, 1], low: 0, high: 1).toArray(Float.self).map(Double.init)
    let z = try logits.toArray(Float.self).map(Double.init)
    var expected = 0.0
    for (i, y) in [0, 2].enumerated() {
      let row = Array(z[(3 * i)..<(3 * i + 3)])
      let logSum = log(row.map { exp($0) }.reduce(0, +))
      for k in 0..<3 {
        func smoothed(_ f: Double) -> Double { k == y ? f : (1 - f) / 2 }
        let target = lambda[i] * smoothed(0.5) + (1 - lambda[i]) * smoothed(0.7)
        expected -= target * (row[k] - logSum)
      }
    }
    expected /= 2
    #expect(abs(try soft.loss(clean: nil, adversarial: logits, labels: labels).item() - expected) < 1e-6)
  }

  @Test func aTrainingStepWithAGRRuns() throws {
    Torch.manualSeed(1)
    let model = TinyConvNet()
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
    let step = TrainingStep(model: model, optimizer: optimizer, method: .avmixup,
                            perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2),
                            reconstruction: GradientReconstruction())
    #expect(step.objective is AVmixupObjective)
    let data = try halvesDataset(count: 16, seed: 1)
    let output = try step(images: try data.images.to(.float32) / 255.0, labels: data.labels, agr: true)
    #expect(try output.loss.item().isFinite && output.statistics != nil && output.conflicts != nil)
  }
}

/// The method losses by method (through their objectives), as these tests name them.
enum MethodLoss {
  /// The loss `method` minimises, from clean logits (may be nil for AT) and adversarial logits.
  static func loss(_ method: TrainingMethod, cleanLogits: Tensor?, adversarialLogits: Tensor?,
                          labels: Tensor, beta: Double) throws -> Tensor
  {
    try method.objective(beta: beta).loss(clean: cleanLogits, adversarial: adversarialLogits, labels: labels)
  }
}
