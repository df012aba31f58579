import Foundation
import Testing

@testable import RobustTraining

/// The committed TorchScript fixtures (Tests/Fixtures/TorchScript/make_fixtures.py made them).
enum TorchScriptFixture {
  static func path(_ name: String) -> String {
    TestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/TorchScript/\(name)").path
  }
  static let inputShape = [3, 8, 8]

  static func tinyPreAct() throws -> ScriptedClassifier {
    try ScriptedClassifier(path: path("tiny_preact.pt"), inputShape: inputShape)
  }
}

/// tiny_preact.pt's network built natively from agr's own PreActBlock: the same state_dict keys.
final class TinyPreActTwin: ImageClassifier {
  let conv1: Conv2d
  let layer1: Sequential
  let bn: BatchNorm2d
  let linear: Linear

  init() throws {
    conv1 = try Conv2d(3, 8, kernelSize: 3, padding: 1, bias: false)
    layer1 = Sequential([try PreActBlock(8, 16, stride: 2)])
    bn = try BatchNorm2d(16)
    linear = try Linear(16, 10)
    super.init(classCount: 10, normalization: nil)
  }

  override var children: [(name: String, module: any Module)] {
    [("conv1", conv1), ("layer1", layer1), ("bn", bn), ("linear", linear)]
  }

  override func logits(_ x: Tensor) throws -> Tensor {
    try preActivationHead(try layer1(try conv1(x)), norm: bn, linear: linear)
  }

  /// A twin holding the scripted module's weights and statistics.
  static func holding(_ scripted: ScriptedClassifier) throws -> TinyPreActTwin {
    let twin = try TinyPreActTwin()
    let folder = try TemporaryFolder()
    try ModuleCheckpoint.save(scripted, to: folder.file("weights.safetensors"))
    _ = try ModuleCheckpoint.load(into: twin, from: folder.file("weights.safetensors"))
    return twin
  }
}

@Suite(.serialized) struct ScriptedClassifierTests {
  func largestDifference(_ a: [(name: String, tensor: Tensor)], _ b: [(name: String, tensor: Tensor)]) throws -> Double {
    #expect(a.map(\.name) == b.map(\.name))
    return try zip(a, b).map { try ($0.tensor.to(.float64) - $1.tensor.to(.float64)).abs().max().item() }.max() ?? 0
  }

  @Test func itsStateDictAndLayerKindsAreThoseOfTheNativeTwin() throws {
    let scripted = try TorchScriptFixture.tinyPreAct()
    let twin = try TinyPreActTwin()
    #expect(Set(scripted.stateDict().map(\.name)) == Set(twin.stateDict().map(\.name)))
    #expect(scripted.namedParameters().map(\.name) == twin.namedParameters().map(\.name))
    #expect(scripted.namedBuffers().map(\.name) == twin.namedBuffers().map(\.name))
    #expect(scripted.parameterKinds() == twin.parameterKinds())
    #expect(scripted.classCount == 10)
    #expect(scripted.parameters.allSatisfy { $0.requiresGrad })
  }

  /// The fixture, its native twin with the same weights, and a seeded batch.
  func twins(seed: UInt64, batch: Int) throws -> (ScriptedClassifier, TinyPreActTwin, images: Tensor, labels: Tensor) {
    let scripted = try TorchScriptFixture.tinyPreAct()
    let twin = try TinyPreActTwin.holding(scripted)
    Torch.manualSeed(seed)
    return (scripted, twin, try Tensor.rand([batch] + TorchScriptFixture.inputShape), try Tensor.randint(0, 10, [batch]))
  }

  @Test func logitsGradientsAndBatchNormStatisticsEqualTheNativeTwins() throws {
    let (scripted, twin, images, labels) = try twins(seed: 5, batch: 6)
    for training in [false, true] {
      scripted.setTraining(training)
      twin.setTraining(training)
      let inputs = try [images.detached().requiresGrad(true), images.detached().requiresGrad(true)]
      let models: [any Classifier] = [scripted, twin]
      var logits: [Tensor] = []
      var gradients: [[Tensor?]] = []
      for (model, input) in zip(models, inputs) {
        let out = try model(input)
        logits.append(out)
        gradients.append(try Autograd.grad(of: [try Functional.crossEntropy(out, labels)], wrt: [input] + model.parameters))
      }
      #expect(try (logits[0] - logits[1]).abs().max().item() == 0, "logits, training \(training)")
      for (index, (ours, native)) in zip(gradients[0], gradients[1]).enumerated() {
        let difference = try (try #require(ours) - (try #require(native))).abs().max().item()
        #expect(difference == 0, "gradient \(index), training \(training): \(difference)")
      }
      // train mode updated both models' running statistics (and num_batches_tracked) the same way
      #expect(try largestDifference(scripted.namedBuffers(), twin.namedBuffers()) == 0)
    }
  }

  @Test func aFullATPlusAGRStepEqualsTheNativeTwins() throws {
    let (scripted, twin, images, labels) = try twins(seed: 6, batch: 8)
    let pgd = TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 3)
    var losses: [Double] = []
    var statistics: [Double] = []
    for model in [scripted, twin] as [any Classifier] {
      let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9,
                                                               weightDecay: 5e-4),
                              method: .at, perturbation: pgd, reconstruction: GradientReconstruction(clip: 0.1))
      for seed in [7, 8] as [UInt64] {
        Torch.manualSeed(seed)
        let output = try step(images: images, labels: labels, agr: true)
        losses.append(try output.loss.item())
        statistics.append(try #require(output.conflicts).sum().item())
      }
    }
    #expect(losses[0] == losses[2] && losses[1] == losses[3], "\(losses)")
    #expect(statistics[0] == statistics[2] && statistics[1] == statistics[3])
    let difference = try largestDifference(scripted.stateDict(), try reordered(twin.stateDict(), like: scripted.stateDict()))
    #expect(difference == 0, "largest state difference after two AT+AGR steps: \(difference)")
  }

  /// PyTorch's state_dict interleaves parameters and buffers per module; the scripted module lists its
  /// parameters first. The same names either way.
  func reordered(_ entries: [(name: String, tensor: Tensor)], like order: [(name: String, tensor: Tensor)])
    throws -> [(name: String, tensor: Tensor)]
  {
    let byName = Dictionary(uniqueKeysWithValues: entries.map { ($0.name, $0.tensor) })
    return try order.map { ($0.name, try #require(byName[$0.name])) }
  }

  @Test func evalModeReachesTheModuleAndLeavesItsStatisticsAlone() throws {
    let scripted = try TorchScriptFixture.tinyPreAct()
    Torch.manualSeed(9)
    let images = try Tensor.rand([4] + TorchScriptFixture.inputShape)
    let before = try scripted.namedBuffers().map { try $0.tensor.clone() }
    scripted.eval()
    let evaluated = try Autograd.withNoGrad { try scripted(images) }
    #expect(try zip(before, scripted.namedBuffers()).allSatisfy { try ($0 - $1.tensor).abs().max().item() == 0 })
    let trained = try scripted.withMode(training: true) { try Autograd.withNoGrad { try scripted(images) } }
    #expect(try (trained - evaluated).abs().max().item() > 1e-3)
    #expect(!scripted.isTraining)
    #expect(try zip(before, scripted.namedBuffers()).contains { try ($0 - $1.tensor).abs().max().item() > 0 })
  }

  /// `move(to:)` re-points the parameter tensors (`assign`); the module computes with the new ones, and
  /// in-place updates of them (SGD) reach it. (A CUDA move takes the same path; no GPU here to run it.)
  @Test func channelsLastMovesAndInPlaceUpdatesReachTheModule() throws {
    let scripted = try TorchScriptFixture.tinyPreAct()
    scripted.eval()
    Torch.manualSeed(10)
    let images = try Tensor.rand([4] + TorchScriptFixture.inputShape)
    let before = try Autograd.withNoGrad { try scripted(images) }
    try scripted.move(to: .cpu, memoryFormat: .channelsLast)
    let weight = try #require(scripted.namedParameters().first { $0.name == "conv1.weight" }?.tensor)
    #expect(weight.isContiguous(.channelsLast) && weight.requiresGrad)
    let after = try Autograd.withNoGrad { try scripted(images.contiguous(.channelsLast)) }
    #expect(try (after - before).abs().max().item() <= 1e-6)
    let bias = try #require(scripted.namedParameters().first { $0.name == "linear.bias" }?.tensor)
    try Autograd.withNoGrad { try bias.add_(try Tensor.ones([10])) }
    let shifted = try Autograd.withNoGrad { try scripted(images) }
    #expect(try (shifted - before - 1).abs().max().item() <= 1e-5)
  }

  @Test func bf16AutocastReachesTheScriptedOperations() throws {
    let scripted = try TorchScriptFixture.tinyPreAct()
    let twin = try TinyPreActTwin.holding(scripted)
    let images = try Tensor.rand([4] + TorchScriptFixture.inputShape)
    scripted.eval()
    twin.eval()
    let (ours, native) = try Torch.withAutocast(device: .cpu) {
      try Autograd.withNoGrad { (try scripted(images), try twin(images)) }
    }
    #expect(ours.dtype == native.dtype)
    #expect(try (ours.to(.float32) - native.to(.float32)).abs().max().item() == 0)
  }

  @Test func aCheckpointLoadsBackIntoTheScriptedModule() throws {
    let trained = try TorchScriptFixture.tinyPreAct()
    try Autograd.withNoGrad { for p in trained.parameters { try p.add_(try Tensor.randn(p.shape), alpha: 0.1) } }
    let folder = try TemporaryFolder()
    try ModuleCheckpoint.save(trained, to: folder.file("model.safetensors"))
    let fresh = try TorchScriptFixture.tinyPreAct()
    _ = try ModuleCheckpoint.load(into: fresh, from: folder.file("model.safetensors"))
    #expect(try largestDifference(trained.stateDict(), fresh.stateDict()) == 0)
  }

  @Test func aTracedModuleIsRefusedWithTheReason() throws {
    #expect {
      _ = try ScriptedClassifier(path: TorchScriptFixture.path("tiny_preact_traced.pt"), inputShape: TorchScriptFixture.inputShape)
    } throws: { error in
      guard case .frozenMode(_, let operation) = error as? ModelFileError else { return false }
      return operation.contains("BatchNorm2d") && operation.contains("training=True")
        && "\(error)".contains("torch.jit.script")
    }
  }

  @Test func tiedWeightsAreRefused() throws {
    let path = TorchScriptFixture.path("tied.pt")
    #expect(throws: ModelFileError.sharedParameter(path: path, names: "decoder.weight is encoder.weight")) {
      _ = try ScriptedClassifier(path: path, inputShape: TorchScriptFixture.inputShape)
    }
  }

  @Test func aFileThatIsNotTorchScriptIsRefused() throws {
    let folder = try TemporaryFolder()
    let text = try folder.write(Array("not a model".utf8), to: "model.pt")
    let weights = folder.file("weights.safetensors")
    try ModuleCheckpoint.save(try TinyPreActTwin(), to: weights)
    let pickled = TorchScriptFixture.path("state_dict.pt")
    for path in [text.path, weights.path, pickled] {
      #expect {
        _ = try ScriptedClassifier(path: path, inputShape: TorchScriptFixture.inputShape)
      } throws: { error in
        guard case .notTorchScript(let named, let detail) = error as? ModelFileError else { return false }
        return named == path && "\(error)".contains("torch.jit.script") && !detail.contains("corrupted")
          && (path != pickled || detail.contains("torch.save archive"))
      }
    }
    #expect(throws: ModelFileError.missing(path: folder.file("absent.pt").path)) {
      _ = try ScriptedClassifier(path: folder.file("absent.pt").path, inputShape: TorchScriptFixture.inputShape)
    }
  }

  @Test func aForwardThatDoesNotGiveLogitsIsRefused() throws {
    #expect {
      _ = try ScriptedClassifier(path: TorchScriptFixture.path("wrong_output.pt"), inputShape: TorchScriptFixture.inputShape)
    } throws: { error in
      guard case .badForward(_, _, let detail) = error as? ModelFileError else { return false }
      return detail.contains("[2, 8, 8, 8]")
    }
    // images the module cannot take (one channel for a three-channel network)
    #expect {
      _ = try ScriptedClassifier(path: TorchScriptFixture.path("tiny_preact.pt"), inputShape: [1, 8, 8])
    } throws: { error in
      guard case .badForward(_, let shape, let detail) = error as? ModelFileError else { return false }
      return shape == [1, 8, 8] && detail.contains("channels")
    }
  }

  @Test func aClassCountOtherThanTheDatasetsAndAChangedFileAreRefused() throws {
    let path = TorchScriptFixture.path("tiny_preact.pt")
    #expect(throws: ModelFileError.classCount(path: path, model: 10, dataset: 100)) {
      _ = try ModelSource.scripted(path: path, checksum: nil).make(classCount: 100, inputShape: TorchScriptFixture.inputShape)
    }
    let folder = try TemporaryFolder()
    let copy = folder.file("model.pt")
    try FileManager.default.copyItem(atPath: path, toPath: copy.path)
    var configuration = TrainingConfiguration()
    try configuration.useModelFile(copy.path)
    _ = try configuration.modelSource.make(classCount: 10, inputShape: TorchScriptFixture.inputShape)
    let handle = try FileHandle(forWritingTo: copy)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data([0]))
    try handle.close()
    #expect {
      _ = try configuration.modelSource.make(classCount: 10, inputShape: TorchScriptFixture.inputShape)
    } throws: { error in
      guard case .changed(let named, _, _) = error as? ModelFileError else { return false }
      return named == copy.path
    }
  }
}
