import Foundation
import Testing

@testable import RobustTraining

/// The flat (packed-gradient) AGR path against the per-tensor reference: the same numbers on
/// hand-made gradients, and the same loss and weight trajectory over several training steps.
@Suite(.serialized) struct FlatReconstructionTests {
  static let shapes: [[Int]] = [[4, 3, 3, 3], [4], [7, 5], [1], [2, 2, 1, 1], [13]]

  func randomGradients(seed: UInt64) throws -> [Tensor] {
    let generator = try Generator(seed: seed)
    return try Self.shapes.map { try Tensor.randn($0, generator: generator) }
  }

  func maxRelativeDifference(_ a: [Tensor], _ b: [Tensor]) throws -> Double {
    #expect(a.count == b.count)
    var worst = 0.0
    for (x, y) in zip(a, b) {
      #expect(x.shape == y.shape)
      let d = try (x - y).abs().max().item()
      let scale = Swift.max(try y.abs().max().item(), 1e-12)
      worst = Swift.max(worst, d / scale)
    }
    return worst
  }

  @Test func flatReconstructionEqualsThePerTensorOne() throws {
    let agr = GradientReconstruction(clip: 0.5)
    for seed in 0..<4 as Range<UInt64> {
      let nat = try randomGradients(seed: 2 * seed)
      var adv = try randomGradients(seed: 2 * seed + 1)
      // make some tensors agree (cs > 0) and some conflict (cs <= 0), one exactly opposed
      adv[0] = try nat[0] * 0.3 + adv[0] * 0.1
      adv[2] = try nat[2] * -1.0
      let layout = try FlatLayout(like: nat)
      let (flat, fs) = try agr.reconstructFlat(clean: nat, adversarial: adv, layout: layout)
      let (reference, rs) = try agr.reconstruct(clean: nat, adversarial: adv)
      #expect(try maxRelativeDifference(flat, reference) <= 1e-6)
      #expect(try maxRelativeDifference([fs.cosine, fs.cleanNorm, fs.adversarialNorm],
                                        [rs.cosine, rs.cleanNorm, rs.adversarialNorm]) <= 1e-6)
      // the conflict rule was exercised both ways
      let cos = try rs.cosine.toArray(Double.self)
      #expect(cos.contains { $0 <= 0 } && cos.contains { $0 > 0 })
    }
  }

  /// Gradients of a channels-last model are channels-last: they are packed in memory order (no fallback
  /// to the per-tensor form), give the per-tensor numbers, and unpack to views with the same strides.
  @Test func channelsLastGradientsTakeTheFlatPath() throws {
    let agr = GradientReconstruction(clip: 0.5)
    let nat = try randomGradients(seed: 21).map { $0.rank == 4 ? try $0.contiguous(.channelsLast) : $0 }
    let adv = try randomGradients(seed: 22).map { $0.rank == 4 ? try $0.contiguous(.channelsLast) : $0 }
    #expect(!nat[0].isContiguous() && nat[0].isContiguous(.channelsLast))
    let layout = try FlatLayout(like: nat)
    #expect(layout.orders[0] == .channelsLast && layout.orders[1] == .plain && layout.orders[4] == .plain)
    #expect(layout.matches(nat) && layout.matches(adv))
    #expect(!layout.matches(try nat.map { try $0.contiguous() }))
    let unpacked = try layout.unpack(try layout.pack(nat))
    #expect(try maxRelativeDifference(unpacked, nat) == 0)
    #expect(unpacked[0].isContiguous(.channelsLast) && !unpacked[0].isContiguous())
    let (flat, _) = try agr.reconstructFlat(clean: nat, adversarial: adv, layout: layout)
    let (reference, _) = try agr.reconstruct(clean: nat, adversarial: adv)
    #expect(try maxRelativeDifference(flat, reference) <= 1e-6)
    #expect(flat[0].isContiguous(.channelsLast))
  }

  /// A channels-last PreAct block trains along the same trajectory as the plain one (flat AGR path).
  @Test func channelsLastTrainingMatchesPlainTraining() throws {
    func run(channelsLast: Bool) throws -> [Double] {
      Torch.manualSeed(4321)
      let model = try PreActResNet18(classCount: 10)
      if channelsLast { try model.move(to: .cpu, memoryFormat: .channelsLast) }
      let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
      let step = TrainingStep(model: model, optimizer: optimizer, method: .at,
                              perturbation: TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 1),
                              reconstruction: GradientReconstruction(clip: 0.1))
      step.reconstructionPath = .flat
      let generator = try Generator(seed: 5)
      var losses: [Double] = []
      for _ in 0..<2 {
        var images = try Tensor.rand([4, 3, 32, 32], generator: generator)
        if channelsLast { images = try images.contiguous(.channelsLast) }
        let labels = try Tensor.randint(0, 10, [4], generator: generator)
        losses.append(try step(images: images, labels: labels, agr: true).loss.item())
      }
      if channelsLast {
        #expect((step.gradientTransform as? AdaptiveGradientReconstruction)?.layout?.orders.contains(.channelsLast) == true)
        #expect((step.gradientTransform as? AdaptiveGradientReconstruction)?.layout?.orders.contains(.other) == false)
      }
      return losses
    }
    let plain = try run(channelsLast: false)
    let last = try run(channelsLast: true)
    for (a, b) in zip(plain, last) { #expect(abs(a - b) <= 1e-4 * Swift.max(1, abs(b)), "\(plain) vs \(last)") }
  }

  @Test func trainingTakesTheFlatPathOnAGPUAndThePerTensorPathOnTheCPU() throws {
    #expect(ReconstructionPath.preferred(on: .cuda(0)) == .flat)
    #expect(ReconstructionPath.preferred(on: .cpu) == .perTensor)
    let model = try SmallCNN(classCount: 10, inputChannels: 1)
    let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1),
                            method: .at, perturbation: TrainingPerturbation(), reconstruction: GradientReconstruction())
    #expect(step.reconstructionPath == .perTensor)
  }

  @Test func layoutPacksAndUnpacksInPlaceOrder() throws {
    let tensors = try randomGradients(seed: 9)
    let layout = try FlatLayout(like: tensors)
    #expect(layout.total == Self.shapes.map { $0.reduce(1, *) }.reduce(0, +))
    let flat = try layout.pack(tensors)
    #expect(try maxRelativeDifference(try layout.unpack(flat), tensors) == 0)
    let sums = try layout.segmentSums(flat).toArray(Double.self)
    for (s, t) in zip(sums, tensors) { #expect(abs(s - (try t.sum().item())) <= 1e-5) }
    let expanded = try layout.expand(try Tensor(Array(0..<tensors.count).map(Float.init))).toArray(Float.self)
    #expect(expanded.count == layout.total)
    #expect(expanded[layout.offsets[3]] == 3 && expanded[layout.total - 1] == Float(tensors.count - 1))
  }

  @Test func nonContiguousGradientsFallBackToThePerTensorPath() throws {
    let nat = try [Tensor.randn([3, 4]).transposed(0, 1), Tensor.randn([5])]
    let adv = try [Tensor.randn([4, 3]), Tensor.randn([5])]
    let agr = GradientReconstruction(clip: 1)
    let layout = try FlatLayout(like: nat)
    #expect(!layout.matches(nat))
    let (flat, _) = try agr.reconstructFlat(clean: nat, adversarial: adv, layout: layout)
    let (reference, _) = try agr.reconstruct(clean: nat, adversarial: adv)
    #expect(try maxRelativeDifference(flat, reference) <= 1e-6)
  }

  /// Runs `steps` training steps from a seeded SmallCNN on seeded data; losses and final weights.
  func trajectory(method: TrainingMethod, path: ReconstructionPath, agr: Bool = true, steps: Int = 4) throws
    -> (losses: [Double], weights: [Tensor])
  {
    Torch.manualSeed(1234)
    let model = try SmallCNN(classCount: 10, inputChannels: 1)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
    let step = TrainingStep(model: model, optimizer: optimizer, method: method,
                            perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.04, steps: 2),
                            reconstruction: GradientReconstruction(clip: 0.1))
    step.reconstructionPath = path
    let generator = try Generator(seed: 77)
    var losses: [Double] = []
    for _ in 0..<steps {
      let images = try Tensor.rand([8, 1, 28, 28], generator: generator)
      let labels = try Tensor.randint(0, 10, [8], generator: generator)
      let out = try step(images: images, labels: labels, agr: agr)
      losses.append(try out.loss.item())
    }
    return (losses, try model.parameters.map { try $0.detached().clone() })
  }

  /// The correctness guard of the fast path: 4 fp32 steps of AT, TRADES and MART with AGR from identical
  /// states; losses and weights agree to 1e-5 (relative). (One test, not parameterised: the runs share
  /// the global random generator and must not interleave.)
  @Test func flatAndPerTensorTrainingGiveTheSameTrajectory() throws {
    for method in [TrainingMethod.at, .trades, .mart] {
      let flat = try trajectory(method: method, path: .flat)
      let reference = try trajectory(method: method, path: .perTensor)
      for (a, b) in zip(flat.losses, reference.losses) {
        #expect(abs(a - b) <= 1e-5 * Swift.max(abs(b), 1), "\(method): losses \(flat.losses) vs \(reference.losses)")
      }
      let weights = try maxRelativeDifference(flat.weights, reference.weights)
      #expect(weights <= 1e-5, "\(method): weights differ by \(weights) (relative)")
      let finite = flat.losses.allSatisfy { $0.isFinite }
      #expect(finite)
      if ProcessInfo.processInfo.environment["AGR_VERBOSE_TESTS"] != nil {
        print("\(method): losses \(flat.losses) vs \(reference.losses); weights max rel diff \(weights)")
      }
    }
  }

  @Test func trainingStepIsDeterministic() throws {
    let a = try trajectory(method: .at, path: .flat, steps: 3)
    let b = try trajectory(method: .at, path: .flat, steps: 3)
    #expect(a.losses == b.losses)
    #expect(try maxRelativeDifference(a.weights, b.weights) == 0)
  }
}

@Suite struct MixedPrecisionStepTests {
  /// bf16 autocast: the forward passes run in bf16, the losses in fp32 (as under PyTorch's autocast), so the
  /// step's loss equals fp32 cross-entropy on the bf16 logits, not a bf16-rounded one; and the step learns.
  @Test func bf16StepsTakeTheLossInFullPrecision() throws {
    Torch.manualSeed(99)
    let model = try SmallCNN(classCount: 10, inputChannels: 1, dropout: 0)  // no dropout: repeatable forwards
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9)
    let step = TrainingStep(model: model, optimizer: optimizer, method: .standard,
                            perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.04, steps: 2),
                            reconstruction: GradientReconstruction(clip: 0.1), precision: .bf16)
    try Autograd.withNoGrad {  // SmallCNN's last layer starts at zero (every logit 0): give it weights
      let last = try #require(model.classifier.layers.last as? Linear)
      try last.weight.copy_(try Tensor.randn(last.weight.shape) * 0.3)
    }
    let images = try Tensor.rand([16, 1, 28, 28])
    let labels = try Tensor.randint(0, 10, [16])
    model.train()
    let logits = try Autograd.withNoGrad {
      try Torch.withAutocast(device: .cpu, dtype: .bfloat16) { try model(images) }
    }
    #expect(logits.dtype == .bfloat16)
    let fullPrecision = try Functional.crossEntropy(try logits.to(.float32), labels).item()
    let rounded = try Functional.crossEntropy(logits, labels).to(.float32).item()
    let out = try step(images: images, labels: labels, agr: false)
    let loss = try out.loss.item()
    #expect(abs(loss - fullPrecision) <= 1e-6 * Swift.max(1, abs(fullPrecision)), "step \(loss), fp32 CE \(fullPrecision)")
    #expect(fullPrecision != rounded, "the check needs a case where bf16 rounding shows")
    #expect(model.parameters.allSatisfy { $0.dtype == .float32 })
    var later = loss
    for _ in 0..<5 { later = try step(images: images, labels: labels, agr: false).loss.item() }
    #expect(later < loss)
  }
}

/// The GPU requirement "no host synchronisation inside a step", checked on the CPU: a training step makes
/// no call that would make the host wait for a GPU (value reads, host copies, boolean-mask indexing).
@Suite(.serialized) struct HostWaitTests {
  @Test(arguments: [TrainingMethod.at, .trades, .mart, .standard, .avmixup])
  func trainingStepsNeverWaitForTheDevice(method: TrainingMethod) throws {
    Torch.manualSeed(7)
    let model = try PreActResNet18(classCount: 10)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
    let step = TrainingStep(model: model, optimizer: optimizer, method: method,
                            perturbation: TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 2,
                                                               loss: method == .trades ? .kl : .crossEntropy),
                            reconstruction: GradientReconstruction(clip: 0.1))
    let images = try Tensor.rand([2, 3, 16, 16])  // small: the property does not depend on the size
    let labels = try Tensor.randint(0, 10, [2])
    _ = try step(images: images, labels: labels, agr: true)  // first use builds the flat layout (one upload)
    for (agr, measure) in [(true, false), (false, false), (false, true)] {
      let before = Torch.hostWaitCount
      _ = try step(images: images, labels: labels, agr: agr, measure: measure)
      #expect(Torch.hostWaitCount == before, "\(method) agr \(agr) measure \(measure): \(Torch.hostWaitCount - before) waits")
    }
  }

  /// AWP's proxy step, perturbation and undo add no host waits either.
  @Test func awpStepsNeverWaitForTheDevice() throws {
    Torch.manualSeed(8)
    let model = try PreActResNet18(classCount: 10)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
    let step = TrainingStep(model: model, optimizer: optimizer, method: .at,
                            perturbation: TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 2),
                            reconstruction: GradientReconstruction(clip: 0.1))
    step.weightPerturbation = try AdversarialWeightPerturbation(proxy: try PreActResNet18(classCount: 10))
    let images = try Tensor.rand([2, 3, 16, 16])
    let labels = try Tensor.randint(0, 10, [2])
    _ = try step(images: images, labels: labels, agr: true)
    for agr in [true, false] {
      let before = Torch.hostWaitCount
      _ = try step(images: images, labels: labels, agr: agr)
      #expect(Torch.hostWaitCount == before, "AWP agr \(agr): \(Torch.hostWaitCount - before) waits")
    }
  }

  @Test func theCounterSeesReadsCopiesAndMaskIndexing() throws {
    let t = try Tensor([1, 2, 3] as [Float])
    var before = Torch.hostWaitCount
    _ = try t.sum().item()
    #expect(Torch.hostWaitCount == before + 1)
    before = Torch.hostWaitCount
    _ = try t.indexed(by: try t .> 1.5)
    #expect(Torch.hostWaitCount == before + 1)
    let positions = try Tensor([Int64(0), 2])  // a copy from host memory: counted
    before = Torch.hostWaitCount
    _ = try t.indexed(by: positions)
    _ = try (t * 2).relu()
    #expect(Torch.hostWaitCount == before)
    _ = try Tensor([Float(1)])
    #expect(Torch.hostWaitCount == before + 1)
  }
}
