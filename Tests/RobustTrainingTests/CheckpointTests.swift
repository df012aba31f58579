import Foundation
import Testing

@testable import RobustTraining

/// A hand-written module with a weight and a bias, standing in for the real layers.
private final class TinyLinear: Module {
  var isTraining = true
  let weight: Tensor
  let bias: Tensor

  init(inputs: Int, outputs: Int, fill: Double) throws {
    weight = try Tensor.full([outputs, inputs], fill).requiresGrad(true)
    bias = try Tensor.full([outputs], -fill).requiresGrad(true)
  }

  var ownParameters: [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// Two children and a buffer: keys "steps", "body.weight", "body.bias", "head.weight", "head.bias".
private final class TinyNet: Module {
  var isTraining = true
  let body: TinyLinear
  let head: TinyLinear
  let extra: TinyLinear?
  let steps: Tensor

  init(hidden: Int = 3, fill: Double, extra: Bool = false) throws {
    body = try TinyLinear(inputs: 2, outputs: hidden, fill: fill)
    head = try TinyLinear(inputs: hidden, outputs: 2, fill: 2 * fill)
    self.extra = extra ? try TinyLinear(inputs: 1, outputs: 1, fill: fill) : nil
    steps = try Tensor([Int64(fill)])
  }

  var children: [(name: String, module: any Module)] {
    [("body", body as any Module), ("head", head)] + (extra.map { [("extra", $0 as any Module)] } ?? [])
  }
  var ownBuffers: [(name: String, tensor: Tensor)] { [("steps", steps)] }
}

private func values(_ module: any Module) throws -> [String: [Float]] {
  Dictionary(uniqueKeysWithValues: try module.stateDict().map { ($0.name, try $0.tensor.toArray(Float.self)) })
}

private func expectCheckpointError(_ expected: CheckpointError, mentioning texts: [String], _ body: () throws -> Void) {
  do {
    try body()
    Issue.record("expected \(expected)")
  } catch let error as CheckpointError {
    #expect(error == expected)
    for text in texts { #expect(error.description.contains(text), "'\(error)' does not mention \(text)") }
  } catch {
    Issue.record("expected a CheckpointError, got \(error)")
  }
}

@Suite struct ModuleCheckpointTests {
  @Test func savesUnderStateDictKeysAndLoadsInPlace() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("net.safetensors")
    let saved = try TinyNet(fill: 5)
    try ModuleCheckpoint.save(saved, to: url, metadata: ["arch": "tiny"])
    #expect(try SafeTensors.read(from: url).names.sorted()
      == ["body.bias", "body.weight", "head.bias", "head.weight", "steps"])

    let target = try TinyNet(fill: 1)
    let before = target.stateDict().map(\.tensor)
    let metadata = try ModuleCheckpoint.load(into: target, from: url)
    #expect(metadata == ["arch": "tiny"])
    #expect(try values(target) == values(saved))
    // Same tensor objects, still trainable leaves: optimizers built earlier stay valid.
    #expect(zip(before, target.stateDict().map(\.tensor)).allSatisfy { $0 === $1 })
    #expect(target.body.weight.requiresGrad && target.body.weight.isLeaf)
    #expect(target.steps.dtype == .int64)
  }

  @Test func loadingConvertsToTheModulesDtype() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("net.safetensors")
    let saved = try TinyNet(fill: 3)
    try saved.body.weight.assign(try saved.body.weight.to(.bfloat16).detached())
    try ModuleCheckpoint.save(saved, to: url)
    #expect(try SafeTensors.read(from: url)["body.weight"]?.dtype == .bfloat16)
    let target = try TinyNet(fill: 0)
    try ModuleCheckpoint.load(into: target, from: url)
    #expect(target.body.weight.dtype == .float32)
    #expect(try target.body.weight.toArray(Float.self) == [Float](repeating: 3, count: 6))
  }

  @Test func missingKeyIsNamedAndNothingIsCopied() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("net.safetensors")
    try ModuleCheckpoint.save(try TinyNet(fill: 5), to: url)
    let target = try TinyNet(fill: 1, extra: true)
    let before = try values(target)
    expectCheckpointError(.missingKey(file: url.path, key: "extra.weight"), mentioning: ["extra.weight", url.path]) {
      try ModuleCheckpoint.load(into: target, from: url)
    }
    #expect(try values(target) == before)
  }

  @Test func unexpectedKeyIsNamed() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("net.safetensors")
    try ModuleCheckpoint.save(try TinyNet(fill: 5, extra: true), to: url)
    expectCheckpointError(.unexpectedKey(file: url.path, key: "extra.weight"), mentioning: ["extra.weight"]) {
      try ModuleCheckpoint.load(into: try TinyNet(fill: 1), from: url)
    }
  }

  @Test func shapeMismatchNamesTheKeyAndBothShapes() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("net.safetensors")
    try ModuleCheckpoint.save(try TinyNet(hidden: 4, fill: 5), to: url)
    let target = try TinyNet(hidden: 3, fill: 1)
    let before = try values(target)
    expectCheckpointError(
      .shapeMismatch(file: url.path, key: "body.weight", expected: [3, 2], found: [4, 2]),
      mentioning: ["body.weight", "[4, 2]", "[3, 2]"]
    ) {
      try ModuleCheckpoint.load(into: target, from: url)
    }
    #expect(try values(target) == before)
  }

  @Test func corruptCheckpointIsReportedNotCrashed() throws {
    let folder = try TemporaryFolder()
    let url = try folder.write(Array("garbage that is not a checkpoint".utf8), to: "net.safetensors")
    #expect(throws: CheckpointError.self) { try ModuleCheckpoint.load(into: try TinyNet(fill: 1), from: url) }
  }
}

@Suite struct TrainingStateTests {
  private struct Progress: Codable, Equatable {
    var epoch: Int
    var step: Int
    var bestAccuracy: Double
    var schedule: [String]
  }

  @Test func tensorsGeneratorStatesAndValuesSurviveAFile() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("state.safetensors")
    let generator = try Generator(seed: 123)
    _ = try Tensor.rand([5], generator: generator)
    var state = TrainingState()
    try state.setTensor(try Tensor([Float](arrayLiteral: 0.5, -1), shape: [1, 2]).requiresGrad(true), forKey: "optimizer.momentum.0")
    try state.setTensor(try generator.state(), forKey: "rng.augmentation")
    try state.setValue(Progress(epoch: 3, step: 1200, bestAccuracy: 0.91, schedule: ["warmup", "cosine"]), forKey: "progress")
    try state.setValue(7, forKey: "seed")
    try state.save(to: url)
    let expectedNext = try Tensor.rand([4], generator: generator).toArray(Float.self)

    let loaded = try TrainingState.load(from: url)
    #expect(loaded.source == url.path)
    #expect(try loaded.tensor(forKey: "optimizer.momentum.0").toArray(Float.self) == [0.5, -1])
    #expect(try loaded.tensor(forKey: "optimizer.momentum.0").shape == [1, 2])
    #expect(try loaded.value(Progress.self, forKey: "progress")
      == Progress(epoch: 3, step: 1200, bestAccuracy: 0.91, schedule: ["warmup", "cosine"]))
    #expect(try loaded.value(Int.self, forKey: "seed") == 7)

    let restored = try Generator(seed: 0)
    try restored.setState(try loaded.tensor(forKey: "rng.augmentation"))
    #expect(try Tensor.rand([4], generator: restored).toArray(Float.self) == expectedNext)
  }

  @Test func replacingATensorKeepsOneEntry() throws {
    var state = TrainingState()
    try state.setTensor(try Tensor([Float(1)]), forKey: "x")
    try state.setTensor(try Tensor([Float(2)]), forKey: "x")
    #expect(state.tensors.count == 1)
    #expect(try state.tensor(forKey: "x").toArray(Float.self) == [2])
  }

  @Test func missingOrMistypedEntriesNameTheKeyAndFile() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("state.safetensors")
    var state = TrainingState()
    try state.setValue("not a number", forKey: "epoch")
    try state.save(to: url)
    let loaded = try TrainingState.load(from: url)
    expectCheckpointError(.missingKey(file: url.path, key: "momentum"), mentioning: ["momentum", url.path]) {
      _ = try loaded.tensor(forKey: "momentum")
    }
    do {
      _ = try loaded.value(Int.self, forKey: "epoch")
      Issue.record("a string decoded as Int")
    } catch let error as CheckpointError {
      #expect(error.description.contains("epoch") && error.description.contains(url.path))
    }
    #expect(throws: CheckpointError.self) { _ = try loaded.value(Int.self, forKey: "absent") }
  }
}
