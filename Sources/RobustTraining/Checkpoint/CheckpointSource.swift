import Foundation
import Torch

/// A model checkpoint and the settings to use it with: those given, else the `config.json` of the run
/// directory the checkpoint sits in, else CIFAR-10, PreAct-ResNet-18 and L-inf eps 8/255. The threat model (norm
/// and radius) is the one given, else the run's, else the one the checkpoint's metadata records: a checkpoint
/// trained in L2 evaluates in L2 by default. A run that trained a
/// TorchScript file loads that file again (refused when it changed since the run started).
public struct CheckpointSource {
  public let url: URL
  /// The configuration of the run the checkpoint belongs to, when it sits in a run directory.
  public let runConfiguration: TrainingConfiguration?
  public let epsilon: Double
  public let norm: Norm
  public let dataset: DatasetFormat
  public let model: ModelSource
  /// The dataset's folder: the one given, else the run's.
  public let dataDirectory: URL?

  /// `architecture` or `modelFile` (a TorchScript file) overrides the run's model.
  /// A `norm` other than the checkpoint's needs an `epsilon` (its radius means nothing in another norm).
  public init(url: URL, epsilon: Double? = nil, norm: Norm? = nil, dataset: String? = nil,
              architecture: ModelArchitecture? = nil, modelFile: String? = nil, dataDirectory: URL? = nil) throws
  {
    guard FileManager.default.fileExists(atPath: url.path) else { throw CheckpointError.missingFile(url.path) }
    self.url = url
    // A checkpoint outside a run takes the defaults; one beside a config.json that cannot be read is an error
    // naming that file, never silently CIFAR-10 at 8/255.
    let run = RunDirectory(url.deletingLastPathComponent())
    runConfiguration = run.isRun ? try run.readConfiguration() : nil
    do {
      self.dataset = try DatasetFormat.named(dataset ?? runConfiguration?.dataset ?? DatasetFormat.cifar10.rawValue)
    } catch { throw ConfigurationError(key: "dataset", "\(error)") }
    // The threat model it was trained for: the run's, else the checkpoint's metadata (nil: neither says).
    var trained: (norm: Norm, epsilon: Double)?
    if let perturbation = runConfiguration?.perturbation {
      trained = (perturbation.threatNorm, perturbation.epsilon)
    } else if epsilon == nil || norm == nil, let metadata = try? SafeTensors.read(from: url).metadata,
              let text = metadata[TrainingPerturbation.normMetadataKey], let recorded = try? Norm(parsing: text),
              let radius = metadata[TrainingPerturbation.epsilonMetadataKey].flatMap(Double.init) {
      trained = (recorded, radius)
    }
    self.norm = norm ?? trained?.norm ?? .lInf
    if let epsilon {
      self.epsilon = epsilon
    } else if let trained, trained.norm == self.norm {
      self.epsilon = trained.epsilon
    } else if let trained {
      throw ConfigurationError(key: "epsilon", "the checkpoint was trained in \(trained.norm.flagName) at \(trained.epsilon); "
        + "its radius means nothing in \(self.norm.flagName): give the \(self.norm.flagName) radius")
    } else if self.norm == .lInf {
      self.epsilon = 8.0 / 255
    } else {
      throw ConfigurationError(key: "epsilon", "no \(self.norm.flagName) radius is recorded for this checkpoint: give one")
    }
    try TrainingConfiguration.checkRadius(self.epsilon, norm: self.norm, dataset: self.dataset, key: "epsilon")
    if let modelFile {
      model = .scripted(path: modelFile, checksum: nil)
    } else if let architecture {
      model = .builtIn(architecture)
    } else {
      model = runConfiguration?.modelSource ?? .builtIn(.preactResNet18)
    }
    self.dataDirectory = dataDirectory ?? runConfiguration?.dataDirectory.map { URL(fileURLWithPath: $0) }
  }

  /// The test split and the model with the checkpoint's weights, on `device`, in eval mode. The input
  /// normalisation is the run's, else the one the checkpoint's metadata records.
  /// `limit`: a streamed dataset (`DatasetFormat.isStreamed`) decodes only its first `limit` test images.
  public func load(on device: Device, dataRoot: DataRoot = .standard, limit: Int? = nil) throws
    -> (test: LabeledImages, model: any Classifier)
  {
    let test = try dataRoot.load(dataset, directory: dataDirectory, split: .test, limit: dataset.isStreamed ? limit : nil,
                                imageSize: runConfiguration?.imageSize)
    let file = try SafeTensors.read(from: url)
    let normalization = try runConfiguration.map { $0.normalization }
      ?? InputNormalization.fromMetadata(file.metadata, file: url.path)
    let classifier = try model.make(for: test, normalization: normalization)
    try ModuleCheckpoint.load(into: classifier, from: file, path: url.path)
    try classifier.move(to: device)
    classifier.eval()
    return (test, classifier)
  }
}
