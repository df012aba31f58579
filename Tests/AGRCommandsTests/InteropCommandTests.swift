import Foundation
import Testing
import Torch

@testable import AGRCommands
@testable import RobustTraining

@Suite struct InteropCommandTests {
  /// The written checkpoint, loaded into a fresh model, reproduces the written logits on the written inputs.
  @Test(arguments: ["smallcnn", "preact18"])
  func writesACheckpointInputsAndMatchingLogits(model: String) throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-interop-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    try Interop.parse(["--model", model, "--count", "3", "--classes", "7", "--output", folder.path]).run()

    let architecture = try ModelArchitecture.parse(model)
    let fresh = try architecture.make(classCount: 7, inputChannels: model == "smallcnn" ? 1 : 3)
    try ModuleCheckpoint.load(into: fresh, from: folder.appendingPathComponent("model.safetensors"))
    fresh.eval()
    let inputs = try #require(try SafeTensors.read(from: folder.appendingPathComponent("inputs.safetensors"))["images"])
    let written = try #require(try SafeTensors.read(from: folder.appendingPathComponent("logits.safetensors"))["logits"])
    #expect(written.shape == [3, 7])
    let again = try Autograd.withNoGrad { try fresh(inputs) }
    #expect(try (again - written).abs().max().item() == 0)
    // BatchNorm statistics were moved off their initial values, so eval mode is exercised.
    if let mean = fresh.namedBuffers().first(where: { $0.name.hasSuffix("running_mean") })?.tensor {
      #expect(try mean.abs().sum().item() > 0)
    }
  }
}
