import Foundation
import Testing

@testable import RobustTraining

/// Free-AT (`--training-attack free`, docs/fast-at.md): each replay equals its formula written out (the weights'
/// SGD step and delta's signed step from one backward pass, carried across batches or restarted per batch), the
/// trainer replays every batch m times, AT and MART train with AGR on and off, a resumed run continues exactly,
/// and what Free-AT is not combined with is refused by key.
@Suite(.serialized) struct FreeAdversarialTrainingTests {
  let eps = 0.1
  let rate = 0.05

  func step(model: TinyConvNet, replays: Int = 2, carry: Bool = true, stepMultiplier: Double? = nil) throws -> TrainingStep {
    var p = TrainingPerturbation(epsilon: eps)
    p.attack = .free
    p.replays = replays
    p.carry = carry
    p.stepMultiplier = stepMultiplier
    let optimizer = try SGD(parameters: model.parameters, learningRate: rate)
    return TrainingStep(model: model, optimizer: optimizer, method: .at, perturbation: p,
                        reconstruction: GradientReconstruction(clip: 0.1), cleanPassInTrainMode: false)
  }

  /// One replay by hand on `model` (a copy with the same weights): the loss at clip01(x + delta), its gradients
  /// with respect to the weights and delta, then w - lr g_w and clip_eps(delta + s sign(g_delta)), the latter
  /// also kept in [0, 1] around x when `box` (the FastAT benchmark's form).
  func replayByHand(_ model: TinyConvNet, images: Tensor, labels: Tensor, delta: Tensor, step: Double, box: Bool) throws -> Tensor {
    model.train()
    let leaf = try delta.detached().requiresGrad(true)
    let loss = try Functional.crossEntropy(try model(try (try images + leaf).clamped(min: 0, max: 1)), labels)
    var grads = try Autograd.gradients(of: loss, wrt: model.parameters + [leaf])
    let g = grads.removeLast()
    try Autograd.withNoGrad { for (w, gw) in zip(model.parameters, grads) { try w.copy_(try w.detached() - gw * rate) } }
    var next = try (try delta + (try g.sign() * step)).clamped(min: -eps, max: eps)
    if box { next = try (try (images + next).clamped(min: 0, max: 1)) - images }
    return next
  }

  func batch(_ rows: Int, seed: UInt64) throws -> (Tensor, Tensor) {
    Torch.manualSeed(seed)
    return (try Tensor.uniform([rows, 1, 8, 8], low: 0, high: 1), try Tensor((0..<rows).map { Int64($0 % 2) }))
  }

  @Test func eachReplayIsItsFormulaAndDeltaIsCarried() throws {
    for (carry, multiplier) in [(true, nil), (false, nil), (true, 0.5)] as [(Bool, Double?)] {
      Torch.manualSeed(11)
      let model = TinyConvNet()
      Torch.manualSeed(11)
      let reference = TinyConvNet()
      let free = try step(model: model, carry: carry, stepMultiplier: multiplier)
      let s = (multiplier ?? 1) * eps
      var delta: Tensor?
      // a batch of 6, replayed twice; then a smaller one of 4, which takes delta's first rows
      for (rows, seed) in [(6, 1), (4, 2)] as [(Int, UInt64)] {
        let (x, y) = try batch(rows, seed: seed)
        try free.freeAdversarial!.beginBatch()
        var mine = carry ? try delta?.slice(0, rows) ?? (try x.zerosLike()) : try x.zerosLike()
        for _ in 0..<2 {
          _ = try free(images: x, labels: y, agr: false)
          mine = try replayByHand(reference, images: x, labels: y, delta: mine, step: s, box: !carry)
          let held = try free.freeAdversarial!.delta!.slice(0, rows)
          #expect(try (held - mine).abs().max().item() < 1e-6, "carry \(carry) step \(s): delta")
          for ((name, a), (_, b)) in zip(model.stateDict(), reference.stateDict()) {
            #expect(try (a - b).abs().max().item() < 1e-6, "carry \(carry): \(name) after the SGD step")
          }
        }
        if let whole = delta, carry {
          #expect(try (free.freeAdversarial!.delta!.slice(rows, 6) - whole.slice(rows, 6)).abs().max().item() == 0,
                  "the rows a smaller batch does not use are kept")
        }
        delta = try free.freeAdversarial!.delta!.clone()
        #expect(try delta!.abs().max().item() <= eps + 1e-7)
        if !carry { #expect(try (try x + delta!.slice(0, rows)).min().item() >= -1e-7, "kept in [0, 1] around x") }
      }
    }
  }

  /// A batch with more rows than delta holds gets zero rows added (the held rows kept); another image shape, a
  /// fresh zero delta.
  @Test func deltaGrowsForALargerBatch() throws {
    let free = FreeAdversarialTraining(epsilon: 0.1, stepSize: 0.1)
    let small = try Tensor.full([2, 1, 8, 8], 0.5)
    _ = try free.leaf(for: small)
    try free.advance(images: small, inputGradient: try small.fullLike(1))
    let leaf = try free.leaf(for: try Tensor.full([3, 1, 8, 8], 0.5))
    #expect(leaf.shape == [3, 1, 8, 8] && leaf.requiresGrad)
    #expect(try abs(free.delta!.slice(0, 2).min().item() - 0.1) < 1e-7 && free.delta!.slice(2, 3).abs().max().item() == 0)
    _ = try free.leaf(for: try Tensor.full([3, 1, 4, 4], 0.5))
    #expect(try free.delta!.shape == [3, 1, 4, 4] && free.delta!.abs().max().item() == 0)
  }

  /// A state without the carried delta, or with one that is no float32 batch, is refused naming the key and file.
  @Test func aBadSavedDeltaIsRefusedNamingTheKey() throws {
    let free = FreeAdversarialTraining(epsilon: 0.1, stepSize: 0.1)
    for state in [TrainingState(), try { () throws -> TrainingState in
      var s = TrainingState()
      try s.setTensor(try Tensor.zeros([4, 8, 8], dtype: .float64), forKey: FreeAdversarialTraining.stateKey)
      return s
    }()] {
      #expect { try free.restore(from: state, file: "/runs/r/last-state.safetensors") } throws: {
        "\($0)".contains(FreeAdversarialTraining.stateKey) && "\($0)".contains("/runs/r/last-state.safetensors")
      }
    }
    // without carry nothing is saved or needed
    try FreeAdversarialTraining(epsilon: 0.1, stepSize: 0.1, carry: false).restore(from: TrainingState(), file: "f")
  }

  /// Under a schedule that changes within the epoch, each replay takes the rate of its own position.
  @Test func theLearningRateAdvancesPerReplay() throws {
    var c = configuration(agr: false, replays: 2)
    c.epochs = 1
    c.schedule = .piecewiseLinear(points: [.init(epoch: 0, rate: 0), .init(epoch: 1, rate: 0.06)])
    Torch.manualSeed(1)
    let trainer = try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 48, seed: 1),
                              test: try halvesDataset(count: 16, seed: 2), run: nil)
    final class Rates: TrainingHook {
      var seen: [Double] = []
      func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws {
        seen.append(trainer.optimizer.learningRate)
      }
    }
    let rates = Rates()
    trainer.hooks.append(rates)
    try trainer.train()
    let expected = (0..<6).map { 0.06 * Double($0) / 6 }  // 3 batches x 2 replays
    #expect(rates.seen.count == 6 && zip(rates.seen, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(rates.seen)")
  }

  func configuration(method: TrainingMethod = .at, agr: Bool, replays: Int = 3, carry: Bool? = nil) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.method = method
    c.agr = agr
    c.epochs = 2
    c.batchSize = 20  // 48 images: batches of 20, 20 and 8
    c.learningRate = 0.05
    c.schedule = .constant(0.05)
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.perturbation.attack = .free
    c.perturbation.replays = replays
    c.perturbation.carry = carry
    c.evalSteps = 2
    c.diagnosticsEvery = 2
    c.seed = 3
    return c
  }

  final class StepCounter: TrainingHook {
    var iterations: [Int] = []
    func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws { iterations.append(iteration) }
  }

  @Test func everyBatchIsReplayedMTimes() throws {
    let c = configuration(agr: false, replays: 3)
    try c.validate()
    Torch.manualSeed(1)
    let trainer = try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 48, seed: 1),
                              test: try halvesDataset(count: 16, seed: 2), run: nil)
    let counter = StepCounter()
    trainer.hooks.append(counter)
    try trainer.train()
    #expect(counter.iterations == Array(0..<(2 * 3 * 3)), "2 epochs of 3 batches, each replayed 3 times")
  }

  @Test func trainsATAndMARTWithAndWithoutAGR() throws {
    for method in [TrainingMethod.at, .mart] {
      for agr in [false, true] {
        var c = configuration(method: method, agr: agr)
        c.epochs = 1
        try c.validate()
        Torch.manualSeed(1)
        let model = TinyConvNet()
        let trainer = try Trainer(configuration: c, model: model, train: try halvesDataset(count: 48, seed: 1),
                                  test: try halvesDataset(count: 16, seed: 2), run: nil)
        let initial = try model.fc.weight.toArray(Float.self)
        let records = try trainer.train()
        let tag = "\(method)\(agr ? "+agr" : "")"
        #expect(records.count == 1 && records[0].trainLoss.isFinite, "\(tag)")
        #expect(try model.fc.weight.toArray(Float.self) != initial, "\(tag): the weights moved")
        #expect(try trainer.step.freeAdversarial!.delta!.abs().max().item() > 0, "\(tag): delta moved")
        #expect((records[0].gopRate != nil) == agr, "\(tag): AGR reconstructed the gradients")
      }
    }
  }

  @Test func resumeEqualsTheStraightRun() throws {
    for carry in [nil, false] as [Bool?] {
      var c = configuration(agr: true, carry: carry)
      c.agrStartEpoch = 2
      c.augment = true
      let runs = try straightAndResumed(c)
      try expectSameState(runs.straight.model, runs.resumed.model)
      #expect(runs.continued.map(\.trainLoss) == runs.full.map(\.trainLoss), "carry \(carry ?? true)")
      let (a, b) = (runs.straight.step.freeAdversarial!.delta!, runs.resumed.step.freeAdversarial!.delta!)
      #expect(try (a - b).abs().max().item() == 0, "delta after the run, carry \(carry ?? true)")
    }
  }

  @Test func thePapersDefaults() throws {
    var p = TrainingPerturbation(epsilon: 8.0 / 255)
    p.attack = .free
    #expect(p.replayCount == 4 && p.stepInEpsilons == 1 && p.attackPasses == 0 && p.passesPerBatch == 8)
    #expect(p.label == "Free-AT m=4")
    var c = TrainingConfiguration()
    c.perturbation = p
    let written = c.withDefaultsWritten().perturbation
    #expect(written.replays == 4 && written.carry == true && written.stepMultiplier == 1 && written.noise == nil)
    #expect(throws: ConfigurationError.self) { _ = try p.perturb(TinyConvNet(), images: try Tensor.zeros([1, 1, 8, 8]), labels: try Tensor([Int64(0)])) }
  }

  @Test func whatFreeATIsNotCombinedWithIsRefusedByKey() throws {
    func refused(_ change: (inout TrainingConfiguration) -> Void) -> String? {
      var c = configuration(agr: false)
      change(&c)
      return (#expect(throws: ConfigurationError.self) { try c.validate() })?.key
    }
    #expect(refused { $0.method = .trades } == "perturbation.attack")
    #expect(refused { $0.method = .standard } == "perturbation.attack")
    #expect(refused { $0.perturbation.noise = 1 } == "perturbation.noise")
    #expect(refused { $0.perturbation.replays = 0 } == "perturbation.replays")
    #expect(refused { $0.perturbation.stepMultiplier = -1 } == "perturbation.step_multiplier")
    #expect(refused { $0.perturbation.iterates = .authors } == "perturbation.iterates")
    #expect(refused { $0.perturbation.norm = .l2 } == "perturbation.attack")
    #expect(refused { $0.awp = true } == "awp")
    #expect(refused { $0.perturbation.attack = .pgd } == "perturbation.replays")
    #expect(refused { $0.perturbation.attack = .fgsmRS; $0.perturbation.replays = nil; $0.perturbation.carry = false } == "perturbation.carry")
    let set = try TrainingConfiguration().setting([(key: "perturbation.attack", value: "free"), (key: "perturbation.replays", value: "8"),
                                                   (key: "perturbation.carry", value: "false"), (key: "method", value: "at")])
    #expect(set.perturbation.kind == .free && set.perturbation.replayCount == 8 && set.perturbation.carry == false)
    try set.validate()
  }
}
