import Foundation
import Testing

@testable import RobustTraining

/// The AGR authors' forms, as options: ImageNet input normalisation recorded in checkpoints, MART's
/// repeated forward passes, and their training PGD whose iterates are not clipped to [0, 1].
@Suite(.serialized) struct ReferenceFormsTests {
  @Test func normalisationsParseByNameOrValues() throws {
    #expect(try InputNormalization.parse("none") == nil)
    #expect(try InputNormalization.parse("ImageNet") == .imagenet)
    #expect(try InputNormalization.parse("0.5,0.5/0.25,0.5") == InputNormalization(mean: [0.5, 0.5], std: [0.25, 0.5]))
    for bad in ["imagenet2", "0.5/0", "0.5,0.5/0.25", "a/b", "0.5", "nan/1"] {
      let error = #expect(throws: ConfigurationError.self) { _ = try InputNormalization.parse(bad) }
      #expect(error?.key == "normalization", "\(bad)")
    }
  }

  /// A checkpoint records its normalisation, so a model rebuilt from the checkpoint alone (no run
  /// directory around it) normalises as the trained one did.
  @Test func theNormalisationTravelsWithTheCheckpoint() throws {
    let run = temporaryRun("normalised")
    let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("agr-alone-\(UUID().uuidString)")
    defer {
      try? FileManager.default.removeItem(at: run.url)
      try? FileManager.default.removeItem(at: elsewhere)
    }
    var c = TrainingConfiguration()
    c.model = .smallCNN
    c.epochs = 1
    c.batchSize = 32
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1)
    c.evalSteps = 0
    c.normalization = InputNormalization(mean: [0.3], std: [0.2])
    let data = try LabeledImages(name: "grey", pixels: (0..<(64 * 784)).map { UInt8(($0 * 7) % 256) },
                                 labels: (0..<64).map { Int64($0 % 10) }, channels: 1, height: 28, width: 28, classCount: 10)
    Torch.manualSeed(3)
    let model = try c.model.make(for: data, normalization: c.normalization)
    try Trainer(configuration: c, model: model, train: data, test: data, run: run).train()

    try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
    let alone = elsewhere.appendingPathComponent("best.safetensors")
    try FileManager.default.copyItem(at: run.bestModel, to: alone)
    let metadata = try SafeTensors.read(from: alone).metadata
    #expect(try InputNormalization.fromMetadata(metadata, file: alone.path) == c.normalization)

    let images = try (try data.images[0..<8].to(.float32)) / 255.0
    model.eval()
    let expected = try Autograd.withNoGrad { try model(images) }
    let file = try SafeTensors.read(from: alone)
    let rebuilt = try c.model.make(for: data, normalization: try InputNormalization.fromMetadata(file.metadata, file: alone.path))
    try ModuleCheckpoint.load(into: rebuilt, from: file, path: alone.path)
    rebuilt.eval()
    #expect(try (try Autograd.withNoGrad { try rebuilt(images) } - expected).abs().max().item() == 0)
    let plain = try c.model.make(for: data)
    try ModuleCheckpoint.load(into: plain, from: file, path: alone.path)
    plain.eval()
    #expect(try (try Autograd.withNoGrad { try plain(images) } - expected).abs().max().item() > 0,
            "without its normalisation the model computes something else")
  }

  /// MART with the authors' passes: BatchNorm's batch counter and running statistics see four forward
  /// passes a step (clean, clean, adversarial, adversarial), the weights the same update as with two.
  @Test func martsRepeatedPassesUpdateBatchNormFourTimesWithTheSameGradients() throws {
    func step(repeated: Bool) throws -> (model: TinyConvNet, loss: Double) {
      Torch.manualSeed(5)
      let model = TinyConvNet()
      let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
      let step = TrainingStep(model: model, optimizer: optimizer, method: .mart,
                              perturbation: TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2),
                              reconstruction: GradientReconstruction())
      step.objective = MARTObjective(beta: 6, repeatsForwardPasses: repeated)
      let data = try halvesDataset(count: 16, seed: 1)
      Torch.manualSeed(6)
      let output = try step(images: try data.images.to(.float32) / 255.0, labels: data.labels, agr: true)
      return (model, try output.loss.item())
    }
    let (two, twoLoss) = try step(repeated: false)
    let (four, fourLoss) = try step(repeated: true)
    #expect(try two.bn.batchesTracked.item() == 2 && four.bn.batchesTracked.item() == 4)
    #expect(twoLoss == fourLoss)
    for ((name, a), (_, b)) in zip(two.namedParameters(), four.namedParameters()) {
      #expect(try (a - b).abs().max().item() == 0, "\(name)")
    }
    // the running mean after clean, clean, adv, adv: m <- 0.9 m + 0.1 batch mean, twice per batch
    #expect(try (two.bn.runningMean - four.bn.runningMean).abs().max().item() > 0)
  }

  /// The authors' attack.py on a model whose input gradient is known: logits (score, 0) for class 1 with
  /// score = sum_i w_i |x_i - 1|, so the cross-entropy gradient's sign is sign(w_i) * sign(x_i - 1) (0 at 1).
  /// A pixel with w < 0 climbs to 1; the standard form stops it there, the authors' lets it pass 1 and turn.
  @Test func theAuthorsPGDFormMatchesTheirLoopWrittenOut() throws {
    final class DistanceToOne: Classifier {
      var isTraining = true
      let w = try! Tensor([Float](arrayLiteral: -1, 1, -1, 1), shape: [1, 1, 2, 2])
      var classCount: Int { 2 }
      func callAsFunction(_ x: Tensor) throws -> Tensor {
        let score = try (try (x - 1).abs() * w).sum(dims: [1, 2, 3])
        return try Tensor.stack([score, try score.zerosLike()], dim: 1)
      }
    }
    let model = DistanceToOne()
    let images = try Tensor([Float](arrayLiteral: 0.93, 0.5, 0.3, 0.7), shape: [1, 1, 2, 2])
    let labels = try Tensor([Int64](arrayLiteral: 1))
    let (eps, step): (Float, Float) = (0.1, 0.04)
    Torch.manualSeed(0)
    let drawn = try Tensor.uniform([1, 1, 2, 2], low: -Double(eps), high: Double(eps)).toArray(Float.self)
    let x0 = try images.toArray(Float.self)
    let w: [Float] = [-1, 1, -1, 1]
    func sign(_ v: Float) -> Float { v > 0 ? 1 : v < 0 ? -1 : 0 }
    func clip(_ v: Float, _ low: Float, _ high: Float) -> Float { min(max(v, low), high) }
    let start = (0..<4).map { clip(x0[$0] + drawn[$0], 0, 1) }
    // their loop, by hand: x <- x0 + clip(x + a * g - x0, -eps, eps), three times, then clip to [0, 1];
    // the standard one: x <- clip(x0 + clip(x - x0 + a * g, -eps, eps), 0, 1)
    var authors = start
    var standard = start
    for _ in 0..<3 {
      authors = (0..<4).map { i in x0[i] + clip(authors[i] + step * sign(w[i] * sign(authors[i] - 1)) - x0[i], -eps, eps) }
      standard = (0..<4).map { i in clip(x0[i] + clip(standard[i] - x0[i] + step * sign(w[i] * sign(standard[i] - 1)), -eps, eps), 0, 1) }
    }
    authors = authors.map { clip($0, 0, 1) }
    for (iterates, expected) in [(TrainingPerturbation.Iterates.authors, authors), (.clipped, standard)] {
      var pgd = TrainingPerturbation(epsilon: Double(eps), stepSize: Double(step), steps: 3)
      pgd.iterates = iterates
      Torch.manualSeed(0)
      let got = try pgd.perturb(model, images: images, labels: labels).toArray(Float.self)
      for i in 0..<4 { #expect(abs(got[i] - expected[i]) < 1e-6, "\(iterates) pixel \(i): \(got[i]) vs \(expected[i])") }
    }
    #expect(authors != standard, "the example must tell the two forms apart: \(authors) vs \(standard)")
  }
}
