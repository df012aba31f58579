import Foundation

/// Where a run's model comes from: one of the built-in families, or a TorchScript file made in Python
/// (with the checksum the run recorded when it started, checked whenever the file is loaded again).
public enum ModelSource: Equatable, Sendable {
  case builtIn(ModelArchitecture)
  case scripted(path: String, checksum: String?)

  /// For run names, reports and messages: the family's name, or the file's name without its extension.
  public var name: String {
    switch self {
    case .builtIn(let architecture): return architecture.rawValue
    case .scripted(let path, _): return URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    }
  }

  /// A model for the images and classes of `data` (a TorchScript module must have that many classes).
  /// `dropout`: SmallCNN's (see `ModelArchitecture.make`); a model file's is its own.
  public func make(for data: LabeledImages, normalization: InputNormalization? = nil, dropout: Double? = nil)
    throws -> any Classifier
  {
    try make(classCount: data.classCount, inputShape: data.imageShape, normalization: normalization, dropout: dropout)
  }

  public func make(classCount: Int, inputShape: [Int], normalization: InputNormalization? = nil, dropout: Double? = nil)
    throws -> any Classifier
  {
    switch self {
    case .builtIn(let architecture):
      return try architecture.make(classCount: classCount, inputShape: inputShape, normalization: normalization,
                                   dropout: dropout)
    case .scripted(let path, let recorded):
      if let recorded {
        let found = try ModelFileChecksum.of(path)
        guard found == recorded else { throw ModelFileError.changed(path: path, recorded: recorded, found: found) }
      }
      let model = try ScriptedClassifier(path: path, inputShape: inputShape, normalization: normalization)
      try model.expectClassCount(classCount)
      return model
    }
  }
}

extension ModelSource {
  /// Whether the model can be trained on `data`, found before a run starts (so before anything is written):
  /// for a model file, everything loading it checks (`make`) and then `ScriptedClassifier.checkTrainingStep`,
  /// each on a copy of the module of its own (the model the run trains, and the random numbers it draws
  /// after seeding, are untouched); nothing for a built-in family.
  public func checkTrainingStep(for data: LabeledImages, normalization: InputNormalization? = nil) throws {
    try checkTrainingStep(classCount: data.classCount, inputShape: data.imageShape, normalization: normalization)
  }

  public func checkTrainingStep(classCount: Int, inputShape: [Int], normalization: InputNormalization? = nil) throws {
    guard case .scripted(let path, _) = self else { return }
    _ = try make(classCount: classCount, inputShape: inputShape, normalization: normalization)
    try ScriptedClassifier.checkTrainingStep(path: path, inputShape: inputShape, classCount: classCount,
                                             normalization: normalization)
  }
}

extension TrainingConfiguration {
  /// The model the run trains: `modelFile` when set, else `model`.
  public var modelSource: ModelSource {
    modelFile.map { .scripted(path: $0, checksum: modelFileChecksum) } ?? .builtIn(model)
  }

  /// Trains the TorchScript module at `path` (made absolute, so that a resume from elsewhere finds it),
  /// recording its checksum.
  public mutating func useModelFile(_ path: String) throws {
    let absolute = URL(fileURLWithPath: path).standardizedFileURL.path
    modelFileChecksum = try ModelFileChecksum.of(absolute)
    modelFile = absolute
  }
}
