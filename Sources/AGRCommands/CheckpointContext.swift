import ArgumentParser
import Foundation
import RobustTraining

/// A checkpoint and the settings to use it with: flags first, then the config.json of the run
/// directory it sits in, then CIFAR-10 / PreAct-ResNet-18 / 8/255.
struct CheckpointContext {
  let url: URL
  let runConfiguration: TrainingConfiguration?
  let epsilon: Double
  let dataset: String
  let architecture: ModelArchitecture
  let dataDirectory: String?

  init(path: String, eps: String?, dataset: String?, model: String?, dataDirectory: String?) throws {
    url = URL(fileURLWithPath: path)
    guard FileManager.default.fileExists(atPath: url.path) else { throw CommandError("\(path): checkpoint not found") }
    runConfiguration = try? RunDirectory(url.deletingLastPathComponent()).readConfiguration()
    epsilon = try eps.map { try parseFraction($0, flag: "--eps") } ?? runConfiguration?.perturbation.epsilon ?? 8.0 / 255
    guard epsilon >= 0, epsilon <= 1 else { throw ValidationError("--eps: must lie in [0, 1], got \(epsilon)") }
    self.dataset = dataset ?? runConfiguration?.dataset ?? "cifar10"
    do {
      architecture = try model.map(ModelArchitecture.parse) ?? runConfiguration?.model ?? .preactResNet18
    } catch { throw ValidationError("--model: \(error)") }
    self.dataDirectory = dataDirectory ?? runConfiguration?.dataDirectory
  }

  /// The test split and the model with the checkpoint's weights, on `device`, in eval mode.
  func load(on device: Device) throws -> (test: LabeledImages, model: any Classifier) {
    let test = try DatasetLocation.load(dataset, directory: dataDirectory, split: .test)
    let classifier = try architecture.make(classCount: test.classCount, inputChannels: test.imageShape[0], imageSize: test.imageShape[2],
                                           normalization: runConfiguration?.normalization)
    try ModuleCheckpoint.load(into: classifier, from: url)
    try classifier.move(to: device)
    classifier.eval()
    return (test, classifier)
  }
}

/// Parses --device and loads CUDA when it is asked for.
func prepareDevice(_ text: String) throws -> Device {
  let device = try Device(parsing: text)
  if device.isCUDA {
    do { try CUDA.load() } catch { throw CommandError("--device \(text): CUDA cannot be used: \(error)") }
    try CUDA.setCuDNNBenchmark(true)
  }
  return device
}
