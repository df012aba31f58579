import Foundation
import Testing

@testable import RobustTraining

/// The single-step training attacks (FGSM-RS, N-FGSM; docs/fast-at.md): each equals its formula written out,
/// keeps to its bounds, draws its start for the global batch under a shard, trains with every adversarial
/// method with AGR on and off, and resumes exactly.
@Suite(.serialized) struct SingleStepAttackTests {
  /// Logits (score, 0) with score = sum_i w_i |x_i - 1/2|: for label 1 the cross-entropy's input gradient has the
  /// sign of w_i * sign(x_i - 1/2) (0 at 1/2), so where the step goes depends on where the start lies.
  final class DistanceToHalf: Classifier {
    var isTraining = true
    let w = try! Tensor([Float](arrayLiteral: -1, 1, -1, 1, 1, -1, 1, -1), shape: [1, 1, 2, 4])
    var classCount: Int { 2 }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
      let score = try (try (x - 0.5).abs() * w).sum(dims: [1, 2, 3])
      return try Tensor.stack([score, try score.zerosLike()], dim: 1)
    }
  }

  static let pixels: [Float] = [0.48, 0.52, 0.3, 0.97, 0.05, 0.55, 0.7, 0.45]

  func sign(_ v: Float) -> Float { v > 0 ? 1 : v < 0 ? -1 : 0 }
  func clip(_ v: Float, _ low: Float, _ high: Float) -> Float { min(max(v, low), high) }

  /// The attack's output on DistanceToHalf and, by hand from the same seed's noise, its formula's.
  func attackAndFormula(_ attack: TrainingPerturbation.Attack, eps: Float, noise: Double? = nil, step: Double? = nil)
    throws -> (got: [Float], expected: [Float])
  {
    var p = TrainingPerturbation(epsilon: Double(eps), stepSize: 0.5, steps: 7)  // PGD's settings, unused
    p.attack = attack
    p.noise = noise
    p.stepMultiplier = step
    let k = Float(p.noiseMultiplier)
    let m = Float(p.stepInEpsilons)
    let images = try Tensor(Self.pixels, shape: [1, 1, 2, 4])
    Torch.manualSeed(5)
    let u = try Tensor.uniform([1, 1, 2, 4], low: -Double(k * eps), high: Double(k * eps)).toArray(Float.self)
    let w: [Float] = [-1, 1, -1, 1, 1, -1, 1, -1]
    let x = Self.pixels
    let start = (0..<8).map { clip(x[$0] + u[$0], 0, 1) }
    let g = (0..<8).map { sign(w[$0] * sign(start[$0] - 0.5)) }
    #expect((0..<8).contains { sign(start[$0] - 0.5) != sign(x[$0] - 0.5) }, "the start must move some gradient's sign")
    let expected: [Float] = (0..<8).map { i in
      switch attack {
      case .fgsmRS: return clip(x[i] + clip(start[i] - x[i] + m * eps * g[i], -eps, eps), 0, 1)
      case .nFGSM: return clip(start[i] + m * eps * g[i], 0, 1)
      case .pgd, .free: fatalError("single-step attacks only")
      }
    }
    Torch.manualSeed(5)
    let got = try p.perturb(DistanceToHalf(), images: images, labels: try Tensor([Int64](arrayLiteral: 1))).toArray(Float.self)
    return (got, expected)
  }

  @Test func fgsmRSIsItsFormula() throws {
    for (eps, step) in [(Float(0.1), nil), (0.08, 2.0)] as [(Float, Double?)] {
      let (got, expected) = try attackAndFormula(.fgsmRS, eps: eps, step: step)
      for i in 0..<8 { #expect(abs(got[i] - expected[i]) < 1e-6, "eps \(eps) pixel \(i): \(got[i]) vs \(expected[i])") }
    }
  }

  @Test func nFGSMIsItsFormula() throws {
    for (eps, noise) in [(Float(0.1), nil), (0.05, 3.0)] as [(Float, Double?)] {
      let (got, expected) = try attackAndFormula(.nFGSM, eps: eps, noise: noise)
      for i in 0..<8 { #expect(abs(got[i] - expected[i]) < 1e-6, "eps \(eps) pixel \(i): \(got[i]) vs \(expected[i])") }
    }
  }

  @Test func thePapersDefaults() {
    var p = TrainingPerturbation()
    #expect(p.kind == .pgd && p.attackPasses == 10 && p.label == "PGD-10")
    p.attack = .fgsmRS
    #expect(p.noiseMultiplier == 1 && p.stepInEpsilons == 1.25 && p.attackPasses == 1 && p.label == "FGSM-RS")
    p.attack = .nFGSM
    #expect(p.noiseMultiplier == 2 && p.stepInEpsilons == 1 && p.label == "N-FGSM")
  }

  /// FGSM-RS stays in the eps-ball, N-FGSM may leave it but not (k + m) eps; both stay in [0, 1].
  @Test func bounds() throws {
    Torch.manualSeed(3)
    let model = TinyConvNet()
    let images = try Tensor.uniform([16, 1, 8, 8], low: 0, high: 1)
    let labels = try Tensor((0..<16).map { Int64($0 % 2) })
    let eps = 0.1
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      var p = TrainingPerturbation(epsilon: eps)
      p.attack = attack
      let x = try p.perturb(model, images: images, labels: labels)
      let distance = try (x - images).abs().max().item()
      #expect(try x.min().item() >= 0 && x.max().item() <= 1, "\(attack)")
      switch attack {
      case .fgsmRS: #expect(distance <= eps + 1e-6)
      default:
        #expect(distance > eps + 1e-3, "N-FGSM leaves the eps-ball somewhere: \(distance)")
        #expect(distance <= (p.noiseMultiplier + p.stepInEpsilons) * eps + 1e-6)
      }
    }
  }

  /// Under data parallelism each rank's rows start where they would in one process.
  @Test func shardsDrawTheStartForTheGlobalBatch() throws {
    Torch.manualSeed(4)
    let model = TinyConvNet()
    model.eval()
    let images = try Tensor.uniform([6, 1, 8, 8], low: 0, high: 1)
    let labels = try Tensor((0..<6).map { Int64($0 % 2) })
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      var p = TrainingPerturbation(epsilon: 0.1)
      p.attack = attack
      Torch.manualSeed(9)
      let whole = try p.perturb(model, images: images, labels: labels)
      let shard = BatchShard(rank: 1, worldSize: 2, total: 6)
      Torch.manualSeed(9)
      let part = try p.perturb(model, images: images.slice(3, 6), labels: labels.slice(3, 6), shard: shard)
      #expect(try (part - whole.slice(3, 6)).abs().max().item() < 1e-6, "\(attack)")
    }
  }

  /// The authors' train-mode attack moves BatchNorm's running statistics; ours (eval mode) does not.
  @Test func trainModeIsTheAuthorsOption() throws {
    Torch.manualSeed(2)
    let images = try Tensor.uniform([8, 1, 8, 8], low: 0, high: 1)
    let labels = try Tensor((0..<8).map { Int64($0 % 2) })
    for trainMode in [nil, true] as [Bool?] {
      let model = TinyConvNet()
      var p = TrainingPerturbation(epsilon: 0.1)
      p.attack = .nFGSM
      p.attackInTrainMode = trainMode
      let before = try model.bn.runningMean.toArray(Float.self)
      _ = try p.perturb(model, images: images, labels: labels)
      #expect((try model.bn.runningMean.toArray(Float.self) != before) == (trainMode == true))
      #expect(model.isTraining, "the model's mode is restored")
    }
  }

  func configuration(_ attack: TrainingPerturbation.Attack, method: TrainingMethod, agr: Bool) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.method = method
    c.agr = agr
    c.epochs = 2
    c.batchSize = 16
    c.learningRate = 0.05
    c.schedule = .constant(0.05)
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2, loss: method == .trades ? .kl : .crossEntropy)
    c.perturbation.attack = attack
    c.evalSteps = 2
    c.diagnosticsEvery = 2
    c.seed = 3
    return c
  }

  @Test func trainsWithEveryMethodWithAndWithoutAGR() throws {
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      for method in [TrainingMethod.at, .trades, .mart] {
        for agr in [false, true] {
          var c = configuration(attack, method: method, agr: agr)
          c.epochs = 1
          try c.validate()
          Torch.manualSeed(1)
          let before = TinyConvNet()
          let trainer = try Trainer(configuration: c, model: before, train: try halvesDataset(count: 32, seed: 1),
                                    test: try halvesDataset(count: 16, seed: 2), run: nil)
          let initial = try before.fc.weight.toArray(Float.self)
          let records = try trainer.train()
          let tag = "\(attack) \(method)\(agr ? "+agr" : "")"
          #expect(records.count == 1 && records.allSatisfy { $0.trainLoss.isFinite }, "\(tag)")
          #expect(try before.fc.weight.toArray(Float.self) != initial, "\(tag): the weights moved")
        }
      }
    }
  }

  @Test func resumeEqualsTheStraightRun() throws {
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      var c = configuration(attack, method: .at, agr: true)
      c.agrStartEpoch = 2
      c.augment = true
      let runs = try straightAndResumed(c)
      try expectSameState(runs.straight.model, runs.resumed.model)
      #expect(runs.continued.map(\.trainLoss) == runs.full.map(\.trainLoss), "\(attack)")
    }
  }

  @Test func badSettingsAreRefusedByKey() throws {
    func refused(_ change: (inout TrainingConfiguration) -> Void) -> String? {
      var c = TrainingConfiguration()
      change(&c)
      return (#expect(throws: ConfigurationError.self) { try c.validate() })?.key
    }
    #expect(refused { $0.perturbation.noise = 2 } == "perturbation.noise")
    #expect(refused { $0.perturbation.stepMultiplier = 1 } == "perturbation.step_multiplier")
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      #expect(refused { $0.perturbation.attack = attack; $0.perturbation.noise = -1 } == "perturbation.noise")
      #expect(refused { $0.perturbation.attack = attack; $0.perturbation.noise = .nan } == "perturbation.noise")
      #expect(refused { $0.perturbation.attack = attack; $0.perturbation.stepMultiplier = 0 } == "perturbation.step_multiplier")
      #expect(refused { $0.perturbation.attack = attack; $0.perturbation.stepMultiplier = .infinity } == "perturbation.step_multiplier")
      #expect(refused { $0.perturbation.attack = attack; $0.perturbation.iterates = .authors } == "perturbation.iterates")
      var c = TrainingConfiguration()
      c.perturbation.attack = attack
      c.perturbation.noise = 0
      c.perturbation.stepMultiplier = 0.5
      try c.validate()
    }
    let error = #expect(throws: ConfigurationError.self) {
      _ = try TrainingConfiguration().setting([(key: "perturbation.attack", value: "fgsm")])
    }
    #expect(error?.key == "perturbation.attack")
  }

  /// A configuration without the new keys is today's PGD, and writes none of them.
  @Test func absentKeysAreTodaysPGD() throws {
    let c = TrainingConfiguration()
    #expect(c.perturbation.kind == .pgd)
    let json = String(decoding: try RunDirectory.configurationJSON(c), as: UTF8.self)
    for key in ["\"attack\"", "\"noise\"", "step_multiplier", "attack_in_train_mode"] { #expect(!json.contains(key), "\(key)") }
    let set = try c.setting([(key: "perturbation.attack", value: "n-fgsm"), (key: "perturbation.noise", value: "3")])
    #expect(set.perturbation.kind == .nFGSM && set.perturbation.noiseMultiplier == 3)
  }
}
