import ArgumentParser
import Foundation
import RobustTraining

/// Writes what a cross-check against PyTorch needs: a checkpoint of a model (BatchNorm statistics moved
/// away from their initial values), random inputs, and this project's logits on them.
struct Interop: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write a checkpoint, inputs and our logits, to check that PyTorch loads the checkpoint and agrees.",
    discussion: """
      Writes OUTPUT/model.safetensors (PyTorch key names), OUTPUT/inputs.safetensors ("images") and \
      OUTPUT/logits.safetensors ("logits", computed here in eval mode on --device, fp32 with TF32 off). Then, \
      with a Python that has torch:
        python3 scripts/pytorch_logits.py MODEL OUTPUT/model.safetensors OUTPUT/inputs.safetensors \\
          OUTPUT/theirs.safetensors --device DEVICE --compare OUTPUT/logits.safetensors
      loads the checkpoint with load_state_dict(strict=True) and prints the largest logit difference.
      """)

  @Option(help: "Model: \(choices(ModelArchitecture.self)).") var model = "preact18"
  @Option(parsing: .unconditional, help: "Classes of the head.") var classes = 10
  @Option(parsing: .unconditional, help: "Input side in pixels (default: the model's usual one: 32, or 28 for smallcnn; 64 for Tiny ImageNet).")
  var imageSize: Int?
  @Option(parsing: .unconditional, help: "Number of input images.") var count = 8
  @Option(help: "Device for our forward pass: cpu, cuda or cuda:N.") var device = "cpu"
  @Option(parsing: .unconditional, help: "Seed of the weights and inputs.") var seed: UInt64 = 0
  @Option(help: "Folder to write into (created).") var output: String

  func run() throws { try reportingErrors(Interop.self, execute) }

  private func execute() throws {
    let architecture = try parseModel(model)
    guard classes > 0, count > 0 else { throw ValidationError("--classes and --count must be positive") }
    let channels = architecture.standardInputShape[0]
    let side = imageSize ?? architecture.standardInputShape[2]
    let target = try prepareDevice(device)
    if target.isCUDA { try CUDA.setTF32(convolutions: false, matmuls: false) }

    Torch.manualSeed(seed)
    let network = try architecture.makeForCrossCheck(classCount: classes, inputChannels: channels, imageSize: side,
                                                     warmUpBatch: max(count, 2))
    let inputs = try Tensor.rand([count, channels, side, side])
    try network.move(to: target, memoryFormat: nil)
    let logits = try Autograd.withNoGrad { try network(try inputs.to(target)).to(.cpu) }

    let folder = URL(fileURLWithPath: output)
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    } catch {
      throw CommandError("--output \(output): cannot create the folder: \(fileErrorText(error))")
    }
    try ModuleCheckpoint.save(network, to: folder.appendingPathComponent("model.safetensors"))
    try SafeTensors(tensors: [("images", inputs)]).write(to: folder.appendingPathComponent("inputs.safetensors"))
    try SafeTensors(tensors: [("logits", logits)]).write(to: folder.appendingPathComponent("logits.safetensors"))
    print("wrote \(folder.path)/{model,inputs,logits}.safetensors: \(architecture.rawValue), \(classes) classes, "
      + "\(count) inputs of \(channels)x\(side)x\(side), logits computed on \(target)")
  }
}
