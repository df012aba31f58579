import Foundation
import Testing
import Torch

@testable import RobustTraining

/// BatchNorm under data parallelism: each rank normalises its shard with the shard's statistics (as
/// PyTorch's DDP does), the running statistics are averaged over the ranks after every step, and the
/// gradients are the row-weighted mean of the ranks'. A 2-rank AT+AGR step of PreAct-ResNet-18 is checked
/// against that semantics written out by hand in this process.
@Suite(.serialized) struct DataParallelBatchNormTests {
  @Test func aStepOfTwoRanksEqualsItsSemanticsWrittenOut() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-ddp-bn-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("data")
    try RunSafetyTests.writeDataset(to: data, trainCount: 8, testCount: 8)
    let run = folder.appendingPathComponent("job")
    let job = try RunSafetyTests.agr(
      ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "preact18", "--method", "at", "--agr",
       "--agr-start-epoch", "1", "--epochs", "1", "--batch-size", "8", "--attack-steps", "1", "--eval-steps", "0",
       "--no-augment", "--lr-schedule", "constant", "--seed", "4", "--output", run.path, "--nproc-per-node", "2"])
    #expect(job.status == 0, "\(job.errors)")
    let c = try RunDirectory(run).readConfiguration()
    let train = try DataRoot.standard.load(.mnist, directory: data, split: .train)

    func freshModel() throws -> any Classifier {
      Torch.manualSeed(c.seed)
      return try c.makeModel(for: train)
    }
    Torch.manualSeed(BatchLoader.mix(c.seed ^ 0x5EED_0001, 0))
    let randomState = try Generator.defaultGenerator(for: .cpu).state()
    var batches = try BatchLoader(train, batchSize: c.batchSize, shuffle: true, seed: c.seed).batches(epoch: 0)
    let batch = try #require(try batches.next())
    var rows = 0
    var sums: (method: [Tensor], clean: [Tensor], buffers: [Tensor])?
    for rank in 0..<2 {
      let shard = BatchShard(rank: rank, worldSize: 2, total: batch.labels.shape[0])
      let images = try batch.images.slice(shard.rows.lowerBound, shard.rows.upperBound)
      let labels = try batch.labels.slice(shard.rows.lowerBound, shard.rows.upperBound)
      let model = try freshModel()
      try Generator.defaultGenerator(for: .cpu).setState(randomState)  // every rank draws the global batch's start
      let adversarial = try c.perturbation.perturb(model, images: images, labels: labels, shard: shard)
      model.train()
      let clean = try model(images)  // the clean pass in train mode, then the adversarial one (BatchNorm sees both)
      let attacked = try model(adversarial)
      let parameters = model.parameters
      let gNat = try Autograd.gradients(of: try Functional.crossEntropy(clean, labels), wrt: parameters)
      let gAdv = try Autograd.gradients(of: try Functional.crossEntropy(attacked, labels), wrt: parameters)
      let n = Double(shard.count)
      let buffers = model.namedBuffers().map(\.tensor).filter { $0.dtype == .float32 }
      let weighted = (try gAdv.map { try $0 * n }, try gNat.map { try $0 * n }, try buffers.map { try $0.clone() })
      sums = try sums.map { s in
        (try zip(s.method, weighted.0).map { try $0 + $1 }, try zip(s.clean, weighted.1).map { try $0 + $1 },
         try zip(s.buffers, weighted.2).map { try $0 + $1 })
      } ?? weighted
      rows += shard.count
    }
    let total = try #require(sums)
    let model = try freshModel()
    let optimizer = try SGD(parameters: model.parameters, learningRate: c.schedule.rate(epoch: 0, fraction: 0),
                            momentum: c.momentum, weightDecay: c.weightDecay, nesterov: c.nesterov)
    let (applied, _) = try GradientReconstruction(clip: c.agrClip).reconstruct(
      clean: try total.clean.map { try $0 / Double(rows) }, adversarial: try total.method.map { try $0 / Double(rows) })
    try optimizer.step(gradients: applied)
    let buffers = model.namedBuffers().map(\.tensor).filter { $0.dtype == .float32 }
    try Autograd.withNoGrad { for (buffer, sum) in zip(buffers, total.buffers) { try buffer.copy_(try sum / 2) } }

    let saved = try SafeTensors.read(from: run.appendingPathComponent("last.safetensors"))
    let expected = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor) })
    var largest = 0.0
    for (name, tensor) in saved.tensors where tensor.dtype == .float32 {
      let reference = try #require(expected[name], "\(name) is not in the model")
      largest = max(largest, try (tensor - reference).abs().max().item())
    }
    // float32 noise of summing per shard and across ranks instead of in one pass
    #expect(largest < 1e-5, "the 2-rank step differs from its semantics by \(largest)")
  }

  /// `--sync-bn`: 2 ranks with shards of 4 and 5 rows take the step one process takes with the batch of 9
  /// (TRADES + AGR: the clean and adversarial passes both synchronised, the statistics' gradients weighted
  /// by each rank's share). One step: later steps would only amplify float32 noise through PGD's signs.
  @Test func synchronizedBatchNormEqualsOneProcess() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-ddp-syncbn-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let data = folder.appendingPathComponent("data")
    try RunSafetyTests.writeDataset(to: data, trainCount: 9, testCount: 8)
    func train(_ name: String, _ extra: [String]) throws -> [String: Tensor] {
      let run = folder.appendingPathComponent(name)
      let outcome = try RunSafetyTests.agr(
        ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "preact18", "--method", "trades", "--agr",
         "--agr-start-epoch", "1", "--epochs", "1", "--batch-size", "9", "--attack-steps", "1", "--eval-steps", "0",
         "--no-augment", "--lr-schedule", "constant", "--seed", "4", "--output", run.path] + extra)
      #expect(outcome.status == 0, "\(name): \(outcome.errors)")
      let file = try SafeTensors.read(from: run.appendingPathComponent("last.safetensors"))
      return Dictionary(uniqueKeysWithValues: file.tensors.map { ($0.name, $0.tensor) })
    }
    let alone = try train("alone", [])
    let synchronized = try train("sync", ["--sync-bn", "--nproc-per-node", "2"])
    var largest = 0.0
    for (name, tensor) in alone where tensor.dtype == .float32 {
      let other = try #require(synchronized[name])
      largest = max(largest, try (tensor - other).abs().max().item())
    }
    #expect(largest < 1e-5, "--sync-bn on 2 ranks differs from one process by \(largest)")
  }
}
