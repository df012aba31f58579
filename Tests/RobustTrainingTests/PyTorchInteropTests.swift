import Foundation
import Testing

@testable import RobustTraining

/// A Python that can `import torch, safetensors`, named by AGR_PYTORCH_PYTHON (this project's
/// own venv holds only libtorch's C++ libraries, so the cross-check is opt-in).
private let pytorchPython: String? = {
  guard let path = ProcessInfo.processInfo.environment["AGR_PYTORCH_PYTHON"], !path.isEmpty else { return nil }
  return FileManager.default.isExecutableFile(atPath: path) ? path : nil
}()

/// Checkpoints written here load into the PyTorch definitions with `load_state_dict(strict=True)`
/// and give the same logits. Runs when AGR_PYTORCH_PYTHON points at a Python with torch.
@Suite(.serialized, .enabled(if: pytorchPython != nil, "set AGR_PYTORCH_PYTHON to a Python with torch and safetensors"))
struct PyTorchInteropTests {
  func pytorchLogits(_ arch: String, model: any Classifier, input: Tensor) throws -> (ours: Tensor, theirs: Tensor) {
    let folder = try TemporaryFolder()
    let checkpoint = folder.url.appendingPathComponent("model.safetensors")
    let inputs = folder.url.appendingPathComponent("inputs.safetensors")
    let output = folder.url.appendingPathComponent("logits.safetensors")
    try ModuleCheckpoint.save(model, to: checkpoint)
    try SafeTensors(tensors: [("images", input)]).write(to: inputs)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pytorchPython!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/pytorch_logits.py").path, arch,
                         checkpoint.path, inputs.path, output.path]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let theirs = try #require(try SafeTensors.read(from: output)["logits"])
    let ours = try Autograd.withNoGrad { try model(input) }
    return (ours, theirs)
  }

  @Test func preActResNet18LogitsMatchPyTorch() throws {
    Torch.manualSeed(21)
    let model = try ModelArchitecture.preactResNet18.makeForCrossCheck(classCount: 10, inputChannels: 3, imageSize: 32)
    let (ours, theirs) = try pytorchLogits("preact18", model: model, input: try Tensor.rand([4, 3, 32, 32]))
    let difference = try (ours - theirs).abs().max().item()
    print("PyTorch cross-check: max |logit difference| = \(difference)")
    #expect(difference < 1e-4, "max |logit difference| = \(difference)")
  }

  /// Runs scripts/`script` with the PyTorch Python; its exit status.
  func runScript(_ script: String, _ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pytorchPython!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/\(script)").path] + arguments
    try process.run()
    process.waitUntilExit()
    return process.terminationStatus
  }

  /// The largest absolute difference between `model`'s floating-point state and the same keys in `theirs`.
  func largestDifference(_ model: any Module, _ theirs: SafeTensors) throws -> Double {
    var largest = 0.0
    for (name, ours) in model.stateDict() where ours.dtype.isFloatingPoint {
      let other = try #require(theirs[name], "\(name) missing")
      largest = max(largest, try (try ours.to(.float64) - other.to(.float64)).abs().max().item())
    }
    return largest
  }

  /// One AT-AWP step from identical weights and adversarial batch: ours against the authors' awp.py and
  /// train.py taken in PyTorch (scripts/pytorch_awp_step.py).
  @Test func anAWPStepMatchesTheAuthorsAdvWeightPerturb() throws {
    Torch.manualSeed(24)
    let model = try ModelArchitecture.preactResNet18.makeForCrossCheck(classCount: 10, inputChannels: 3, imageSize: 16)
    let folder = try TemporaryFolder()
    let checkpoint = folder.url.appendingPathComponent("model.safetensors")
    let batchFile = folder.url.appendingPathComponent("batch.safetensors")
    let output = folder.url.appendingPathComponent("after.safetensors")
    try ModuleCheckpoint.save(model, to: checkpoint)
    let images = try Tensor.rand([8, 3, 16, 16])
    let labels = try Tensor.randint(0, 10, [8])
    // the training attack's random start only (no steps): drawn again from the same seed inside the step
    let attack = TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 0)
    Torch.manualSeed(77)
    let adversarial = try attack.perturb(model, images: images, labels: labels)
    try SafeTensors(tensors: [("images", images), ("adversarial", adversarial), ("labels", labels)]).write(to: batchFile)

    let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9,
                                                             weightDecay: 5e-4),
                            method: .at, perturbation: attack, reconstruction: GradientReconstruction())
    step.weightPerturbation = try AdversarialWeightPerturbation(
      proxy: try ModelArchitecture.preactResNet18.make(classCount: 10, inputChannels: 3, imageSize: 16))
    Torch.manualSeed(77)
    _ = try step(images: images, labels: labels, agr: false)

    #expect(try runScript("pytorch_awp_step.py", ["preact18", checkpoint.path, batchFile.path, output.path]) == 0)
    let theirs = try SafeTensors.read(from: output)
    let largest = try largestDifference(model, theirs)
    print("PyTorch AWP cross-check: max |weight difference| after one step = \(largest)")
    #expect(largest < 1e-5, "max |weight difference| = \(largest)")
  }

  /// Free-AT's replays from identical weights and batches, both forms: ours against main_free.py's carried noise and
  /// the FastAT benchmark's per-batch restart taken in PyTorch (scripts/pytorch_free_at.py): the weights after
  /// 2 batches (8 and 5 rows) of 3 replays each, SGD with momentum and weight decay, and the perturbation.
  @Test func freeATReplaysMatchTheAuthorsAndTheBenchmark() throws {
    for carry in [true, false] {
      Torch.manualSeed(31)
      let model = try ModelArchitecture.preactResNet18.makeForCrossCheck(classCount: 10, inputChannels: 3, imageSize: 16)
      let folder = try TemporaryFolder()
      let checkpoint = folder.url.appendingPathComponent("model.safetensors")
      let batchFile = folder.url.appendingPathComponent("batches.safetensors")
      let output = folder.url.appendingPathComponent("after.safetensors")
      try ModuleCheckpoint.save(model, to: checkpoint)
      let batches = try [8, 5].map { rows in (try Tensor.rand([rows, 3, 16, 16]), try Tensor.randint(0, 10, [rows])) }
      try SafeTensors(tensors: batches.enumerated().flatMap { i, b in [("images_\(i)", b.0), ("labels_\(i)", b.1)] })
        .write(to: batchFile)
      var p = TrainingPerturbation(epsilon: 8.0 / 255)
      p.attack = .free
      p.replays = 3
      p.carry = carry
      let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9,
                                                               weightDecay: 5e-4),
                              method: .at, perturbation: p, reconstruction: GradientReconstruction(), cleanPassInTrainMode: false)
      for (images, labels) in batches {
        try step.freeAdversarial!.beginBatch()
        for _ in 0..<3 { _ = try step(images: images, labels: labels, agr: false) }
      }

      let arguments = ["preact18", checkpoint.path, batchFile.path, output.path, "--replays", "3", "--eps", String(8.0 / 255),
                       "--form", carry ? "authors" : "benchmark"]
      #expect(try runScript("pytorch_free_at.py", arguments) == 0)
      let theirs = try SafeTensors.read(from: output)
      let largest = try largestDifference(model, theirs)
      let theirDelta = try #require(theirs["delta"])
      let ourDelta = try step.freeAdversarial!.delta!.slice(0, theirDelta.shape[0])
      let deltaDifference: Double = try (try ourDelta.to(.float64) - theirDelta.to(.float64)).abs().max().item()
      print("PyTorch Free-AT cross-check (\(carry ? "authors" : "benchmark")): max |weight difference| \(largest), "
        + "max |delta difference| \(deltaDifference)")
      #expect(largest < 1e-5, "\(carry ? "authors" : "benchmark"): max |weight difference| = \(largest)")
      #expect(deltaDifference < 1e-6, "\(carry ? "authors" : "benchmark"): max |delta difference| = \(deltaDifference)")
    }
  }

  /// A TorchScript fixture trained here (two AT+AGR steps) loads back into the Python class it was scripted from.
  @Test func aTrainedScriptedModuleLoadsIntoItsPythonClassStrictly() throws {
    let model = try TorchScriptFixture.tinyPreAct()
    Torch.manualSeed(25)
    let step = TrainingStep(model: model, optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9),
                            method: .at, perturbation: TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 2),
                            reconstruction: GradientReconstruction())
    for _ in 0..<2 {
      _ = try step(images: try Tensor.rand([8] + TorchScriptFixture.inputShape), labels: try Tensor.randint(0, 10, [8]), agr: true)
    }
    model.eval()
    let source = TestData.repositoryRoot.appendingPathComponent("Tests/Fixtures/TorchScript/make_fixtures.py:TinyPreAct").path
    let (ours, theirs) = try pytorchLogits(source, model: model, input: try Tensor.rand([4] + TorchScriptFixture.inputShape))
    let difference = try (ours - theirs).abs().max().item()
    print("PyTorch cross-check (TorchScript fixture after training): max |logit difference| = \(difference)")
    #expect(difference < 1e-5, "max |logit difference| = \(difference)")
  }

  func exportModel(_ arguments: [String]) throws -> (status: Int32, errors: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pytorchPython!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/export_model.py").path] + arguments
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    return (process.terminationStatus, text)
  }

  /// scripts/export_model.py on our SmallCNN's PyTorch definition: the file's logits and gradients are those of
  /// the native SmallCNN holding its weights (dropout off: eval mode).
  @Test func anExportedSmallCNNIsTheNativeOne() throws {
    let folder = try TemporaryFolder()
    let file = folder.file("smallcnn.pt").path
    #expect(try exportModel(["smallcnn", file]).status == 0)
    let scripted = try ScriptedClassifier(path: file, inputShape: [1, 28, 28])
    let native = try ModelArchitecture.smallCNN.make(classCount: 10, inputChannels: 1)
    try ModuleCheckpoint.save(scripted, to: folder.file("weights.safetensors"))
    _ = try ModuleCheckpoint.load(into: native, from: folder.file("weights.safetensors"))
    #expect(scripted.parameterKinds() == native.parameterKinds())
    scripted.eval()
    native.eval()
    let images = try Tensor.rand([4, 1, 28, 28])
    let labels = try Tensor.randint(0, 10, [4])
    let (ours, theirs) = (try scripted(images), try native(images))
    #expect(try (ours - theirs).abs().max().item() == 0)
    let gradients = try [scripted, native].map { model in
      try Autograd.grad(of: [try Functional.crossEntropy(try model(images), labels)], wrt: model.parameters)
    }
    for (a, b) in zip(gradients[0], gradients[1]) { #expect(try (try #require(a) - (try #require(b))).abs().max().item() <= 1e-7) }
  }

  /// A model TorchScript cannot compile (RobustBench's block defines `out` on one branch only): the script
  /// stops with TorchScript's error and what to change.
  @Test func exportSaysWhatToDoWhenScriptingFails() throws {
    let folder = try TemporaryFolder()
    let source = try folder.write(Array("""
      import torch, torch.nn as nn
      class Block(nn.Module):
          def __init__(self, classes=10):
              super().__init__()
              self.conv = nn.Conv2d(3, classes, 3)
              self.has_shortcut = False
          def forward(self, x):
              if self.has_shortcut:
                  x = torch.relu(x)
              else:
                  out = torch.relu(x)
              return self.conv(x if self.has_shortcut else out).mean((2, 3))
      """.utf8), to: "block.py")
    let outcome = try exportModel(["\(source.path):Block", folder.file("block.pt").path])
    #expect(outcome.status != 0 && outcome.errors.contains("define every variable on all branches"), "\(outcome.errors)")
    #expect(!FileManager.default.fileExists(atPath: folder.file("block.pt").path))
  }

  @Test func smallCNNLogitsMatchPyTorch() throws {
    Torch.manualSeed(22)
    let model = try ModelArchitecture.smallCNN.makeForCrossCheck(classCount: 10, inputChannels: 1, imageSize: 28)
    let (ours, theirs) = try pytorchLogits("smallcnn", model: model, input: try Tensor.rand([4, 1, 28, 28]))
    let difference = try (ours - theirs).abs().max().item()
    print("PyTorch cross-check: max |logit difference| = \(difference)")
    #expect(difference < 1e-4, "max |logit difference| = \(difference)")
  }

  @Test func wideResNetLogitsMatchPyTorch() throws {
    Torch.manualSeed(23)
    let model = try ModelArchitecture.wideResNet34x10.makeForCrossCheck(classCount: 10, inputChannels: 3, imageSize: 32,
                                                                        warmUpBatch: 2)
    let (ours, theirs) = try pytorchLogits("wrn34-10", model: model, input: try Tensor.rand([2, 3, 32, 32]))
    let difference = try (ours - theirs).abs().max().item()
    print("PyTorch cross-check: max |logit difference| = \(difference)")
    #expect(difference < 1e-4, "max |logit difference| = \(difference)")
  }

  /// Our SGD against torch.optim.SGD itself, step for step, for each option combination.
  @Test(arguments: [(0.9, 0.0, 5e-4, false), (0.9, 0.3, 1e-2, false), (0.9, 0.0, 5e-4, true), (0.0, 0.0, 0.0, false)])
  func sgdMatchesTorchOptimSGD(momentum: Double, dampening: Double, weightDecay: Double, nesterov: Bool) throws {
    let folder = try TemporaryFolder()
    let generator = try Generator(seed: 3)
    let start = try Tensor.randn([5, 3], dtype: .float64, generator: generator)
    let grads = try Tensor.randn([6, 5, 3], dtype: .float64, generator: generator)
    let input = folder.url.appendingPathComponent("sgd-in.safetensors")
    let output = folder.url.appendingPathComponent("sgd-out.safetensors")
    try SafeTensors(tensors: [("param", start), ("grads", grads)]).write(to: input)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pytorchPython!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/pytorch_sgd.py").path, input.path,
                         output.path, "0.1", "\(momentum)", "\(dampening)", "\(weightDecay)", nesterov ? "1" : "0"]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let trajectory = try #require(try SafeTensors.read(from: output)["trajectory"])

    let p = try start.clone().requiresGrad(true)
    let sgd = try SGD(parameters: [p], learningRate: 0.1, momentum: momentum, dampening: dampening,
                      weightDecay: weightDecay, nesterov: nesterov)
    for step in 0..<6 {
      try sgd.step(gradients: [try grads[step]])
      let difference = try (p - (try trajectory[step])).abs().max().item()
      #expect(difference < 1e-12, "step \(step): max |difference| = \(difference)")
    }
  }
  /// Our SGD (Nesterov included) and AdamW against torch.optim's, step for step, with two parameter groups
  /// (weight decay on the first parameter only, as `--weight-decay-scope weights` makes for a bias).
  @Test(arguments: [
    #"{"kind": "adamw", "lr": 0.01, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decays": [0.05, 0]}"#,
    #"{"kind": "adamw", "lr": 0.1, "betas": [0.8, 0.99], "eps": 1e-3, "weight_decays": [0.3, 0.01]}"#,
    #"{"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0, "nesterov": true, "weight_decays": [5e-4, 0]}"#,
    #"{"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.2, "nesterov": false, "weight_decays": [1e-2, 0]}"#,
  ])
  func optimizersMatchTorchOptim(spec: String) throws {
    let settings = try #require(try JSONSerialization.jsonObject(with: Data(spec.utf8)) as? [String: Any])
    let folder = try TemporaryFolder()
    let generator = try Generator(seed: 4)
    let starts = [try Tensor.randn([5, 3], dtype: .float64, generator: generator),
                  try Tensor.randn([3], dtype: .float64, generator: generator)]
    let grads = [try Tensor.randn([7, 5, 3], dtype: .float64, generator: generator),
                 try Tensor.randn([7, 3], dtype: .float64, generator: generator)]
    let input = folder.url.appendingPathComponent("optimizer-in.safetensors")
    let output = folder.url.appendingPathComponent("optimizer-out.safetensors")
    try SafeTensors(tensors: [("param.0", starts[0]), ("param.1", starts[1]), ("grads.0", grads[0]), ("grads.1", grads[1])])
      .write(to: input)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pytorchPython!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/pytorch_optimizer.py").path, input.path,
                         output.path, spec]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let theirs = try SafeTensors.read(from: output)
    let trajectories = [try #require(theirs["trajectory.0"]), try #require(theirs["trajectory.1"])]

    let parameters = try starts.map { try $0.clone().requiresGrad(true) }
    let decays = try #require(settings["weight_decays"] as? [Double])
    let lr = try #require(settings["lr"] as? Double)
    let optimizer: any Optimizer
    if settings["kind"] as? String == "adamw" {
      let betas = try #require(settings["betas"] as? [Double])
      optimizer = try AdamW(parameters: parameters, learningRate: lr, betas: (betas[0], betas[1]),
                            epsilon: try #require(settings["eps"] as? Double), weightDecays: decays)
    } else {
      optimizer = try SGD(parameters: parameters, learningRate: lr, momentum: try #require(settings["momentum"] as? Double),
                          dampening: try #require(settings["dampening"] as? Double),
                          nesterov: try #require(settings["nesterov"] as? Bool), weightDecays: decays)
    }
    for step in 0..<7 {
      try optimizer.step(gradients: [try grads[0][step], try grads[1][step]])
      for i in 0..<2 {
        let difference = try (parameters[i] - (try trajectories[i][step])).abs().max().item()
        #expect(difference < 1e-12, "\(spec): step \(step), parameter \(i): max |difference| = \(difference)")
      }
    }
  }
}
