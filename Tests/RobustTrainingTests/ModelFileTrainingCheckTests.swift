import Foundation
import Testing

@testable import RobustTraining

/// Model files that load (their eval-mode forward gives logits) but cannot be trained: found by one training
/// step's forward and backward pass on 2 images before a run starts, with a message that names the file
/// (fixtures: Tests/Fixtures/TorchScript/make_training_failure_fixtures.cpp, libtorch's C++ API).
@Suite struct ModelFileTrainingCheckTests {
  static let greyShape = [1, 28, 28]

  /// Four 1x28x28 images of 10 classes (only their shape and class count matter to the check).
  static func greyImages() throws -> LabeledImages {
    try LabeledImages(name: "grey", pixels: [UInt8](repeating: 100, count: 4 * 28 * 28), labels: [0, 1, 2, 3], channels: 1,
                      height: 28, width: 28, classCount: 10)
  }

  @Test func modulesThatFailOnlyInTrainingAreRefusedByName() throws {
    let cases: [(String, String)] = [
      ("train_mode_shape.pt", "in train mode forward returns a tensor of shape [2, 16], not logits [batch, 10]"),
      ("integer_logits.pt", "forward returns int64 logits"),
      ("detached_logits.pt", "do not depend on its parameters"),
      ("no_parameters.pt", "no parameters"),
    ]
    for (name, words) in cases {
      let path = TorchScriptFixture.path(name)
      // loading alone finds nothing: eval mode gives [batch, 10] logits
      let loaded = try ScriptedClassifier(path: path, inputShape: Self.greyShape)
      #expect(loaded.classCount == 10)
      do {
        try ModelSource.scripted(path: path, checksum: nil).checkTrainingStep(for: try Self.greyImages())
        Issue.record("\(name): accepted")
      } catch let error as ModelFileError {
        guard case .untrainable(let named, let detail) = error else { Issue.record("\(name): \(error)"); continue }
        #expect(named == path && detail.contains(words), "\(name): \(detail)")
        #expect(error.description.hasPrefix("\(path) cannot be trained"), "\(error)")
      }
    }
  }

  @Test func trainableModulesPassAndAreLeftAsTheyWere() throws {
    try ScriptedClassifier.checkTrainingStep(path: TorchScriptFixture.path("tiny_grey.pt"), inputShape: Self.greyShape, classCount: 10)
    try ScriptedClassifier.checkTrainingStep(path: TorchScriptFixture.path("tiny_grey_plain.pt"), inputShape: Self.greyShape,
                                             classCount: 10, normalization: InputNormalization(mean: [0.5], std: [0.25]))
    // the check runs on a copy of its own: a model loaded before it keeps its statistics and has no gradients
    let model = try TorchScriptFixture.tinyPreAct()
    let before = try model.ownBuffers.map { try $0.tensor.toArray(Float.self) }
    try ScriptedClassifier.checkTrainingStep(path: model.path, inputShape: TorchScriptFixture.inputShape, classCount: 10)
    #expect(try model.ownBuffers.map { try $0.tensor.toArray(Float.self) } == before)
    #expect(model.ownParameters.allSatisfy { $0.tensor.grad == nil })
    // a built-in family needs no check
    try ModelSource.builtIn(.smallCNN).checkTrainingStep(for: try Self.greyImages())
  }
}
