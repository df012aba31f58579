import Foundation
import Torch

/// A classifier defined in Python and saved with `torch.jit.script(model).save(path)`: its parameters and
/// buffers under their `state_dict` names (checkpoints load back into the Python model strictly), its
/// train/eval switch, and its forward pass, behind the same `Classifier` protocol as the built-in families.
/// Input normalisation: inside the module's forward, or `normalization` applied before it.
public final class ScriptedClassifier: Classifier {
  public let path: String
  public let classCount: Int
  private let module: ScriptModule
  private let normalizer: InputNormalizer?
  private var training = true

  /// Loads the module and runs forward once on a zero batch of `inputShape` (C, H, W) images in eval mode,
  /// which gives the class count and refuses a forward pass that does not map images to logits.
  public init(path: String, inputShape: [Int], normalization: InputNormalization? = nil) throws {
    guard FileManager.default.fileExists(atPath: path) else { throw ModelFileError.missing(path: path) }
    self.path = path
    do { module = try ScriptModule(contentsOf: path) } catch let error as TorchError {
      throw ModelFileError.notTorchScript(path: path, detail: Self.loadFailure(error.message))
    }
    if let operation = try module.frozenModeOperation() { throw ModelFileError.frozenMode(path: path, operation: operation) }
    if let names = try module.sharedParameter() { throw ModelFileError.sharedParameter(path: path, names: names) }
    let (module, normalizer) = (module, normalization.map(InputNormalizer.init))
    self.normalizer = normalizer
    do {
      let probe = try Autograd.withNoGrad {
        try module.setTraining(false)
        defer { try? module.setTraining(true) }
        let images = try Tensor.zeros([2] + inputShape)
        return try module.forward(try normalizer?(images) ?? images)
      }
      classCount = probe.shape[1]
    } catch let error as TorchError {
      throw ModelFileError.badForward(path: path, inputShape: inputShape, detail: Self.cause(error.message))
    }
  }

  /// Runs one training step's forward and backward pass on a batch of 2 zero images of `inputShape`, in train
  /// mode, on a second copy of the module at `path` (so that neither this run's module, its BatchNorm
  /// statistics nor, when called before seeding, its random numbers are touched), and throws
  /// `ModelFileError.untrainable` for what only training would find: no parameters, train-mode output that
  /// is not [batch, classCount] logits, integer logits, logits that do not depend on the parameters
  /// (a detached output), a backward pass that fails or reaches no parameter.
  public static func checkTrainingStep(path: String, inputShape: [Int], classCount: Int,
                                       normalization: InputNormalization? = nil) throws {
    func refuse(_ detail: String) -> ModelFileError { .untrainable(path: path, detail: detail) }
    let module: ScriptModule
    do { module = try ScriptModule(contentsOf: path) } catch let error as TorchError {
      throw ModelFileError.notTorchScript(path: path, detail: loadFailure(error.message))
    }
    guard !module.parameters.isEmpty else { throw refuse("it has no parameters, so there is nothing to train") }
    do {
      for parameter in module.parameters where parameter.tensor.dtype.isFloatingPoint { try parameter.tensor.requiresGrad(true) }
      try module.setTraining(true)
      let images = try Tensor.zeros([2] + inputShape)
      let logits: Tensor
      do { logits = try module.forward(try normalization.map(InputNormalizer.init)?(images) ?? images) } catch let error as TorchError {
        throw refuse("forward fails in train mode: \(cause(error.message))")
      }
      guard logits.shape == [2, classCount] else {
        throw refuse("in train mode forward returns a tensor of shape \(logits.shape), not logits [batch, \(classCount)] as in eval mode")
      }
      guard logits.dtype.isFloatingPoint else {
        throw refuse("forward returns \(logits.dtype) logits; they must be floating point (no gradient flows through integers)")
      }
      guard logits.requiresGrad else {
        throw refuse("its logits do not depend on its parameters (a detached output, or a forward under torch.no_grad()), "
          + "so no gradient would reach them")
      }
      let loss = try Functional.crossEntropy(try logits.to(.float32), try Tensor.zeros([2], dtype: .int64))
      do { try loss.backward() } catch let error as TorchError { throw refuse("backward fails: \(cause(error.message))") }
      guard module.parameters.contains(where: { $0.tensor.grad != nil }) else {
        throw refuse("the backward pass reaches none of its parameters")
      }
    } catch let error as TorchError {
      throw refuse(cause(error.message))
    }
  }

  /// A model file's class count that must equal the dataset's.
  public func expectClassCount(_ count: Int) throws {
    guard classCount == count else { throw ModelFileError.classCount(path: path, model: classCount, dataset: count) }
  }

  public var isTraining: Bool {
    get { training }
    set {
      guard newValue != training else { return }
      // module.train(bool) sets an attribute on each submodule; it fails only on a broken module
      try? module.setTraining(newValue)
      training = newValue
    }
  }

  public var ownParameters: [(name: String, tensor: Tensor)] { module.parameters.map { ($0.name, $0.tensor) } }
  public var ownBuffers: [(name: String, tensor: Tensor)] { module.buffers.map { ($0.name, $0.tensor) } }

  /// The kind of each parameter's layer, from the class name of the submodule that owns it.
  public var ownParameterKinds: [LayerKind] { module.parameters.map { LayerKind(moduleClass: $0.ownerType) } }

  public func callAsFunction(_ images: Tensor) throws -> Tensor {
    try module.forward(try normalizer?(images) ?? images)
  }

  /// libtorch's reason without its guess that the file is corrupted; a `torch.save` archive (a pickled state
  /// dict or model) lacks TorchScript's constants.pkl.
  private static func loadFailure(_ message: String) -> String {
    let reason = cause(message).components(separatedBy: ". This is an internal miniz error")[0]
    return reason.contains("constants.pkl") ? reason + " (a torch.save archive, not torch.jit.save?)" : reason
  }

  /// The line of a libtorch message that says what went wrong: its first, or for a TorchScript interpreter
  /// error (the traceback follows the first line) its last.
  private static func cause(_ message: String) -> String {
    let lines = message.split(separator: "\n", omittingEmptySubsequences: true)
    // "The following operation failed in the TorchScript interpreter." is followed by the traceback; the
    // cause is the last line
    if message.contains("TorchScript interpreter"), let last = lines.last { return String(last) }
    return lines.first.map(String.init) ?? message
  }
}

extension LayerKind {
  /// The kind of a PyTorch module class (Conv2d, BatchNorm2d, Linear, ...).
  init(moduleClass name: String) {
    if name.hasPrefix("Conv") { self = .conv }
    else if name.hasPrefix("BatchNorm") || name == "SyncBatchNorm" { self = .batchNorm }
    else if name == "Linear" || name == "LazyLinear" { self = .linear }
    else { self = .other }
  }
}
