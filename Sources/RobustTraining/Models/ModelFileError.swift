/// Why a TorchScript model file cannot be trained or evaluated; every message names the file.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
  case missing(path: String)
  case notTorchScript(path: String, detail: String)
  /// Traced, not scripted: a batch_norm or dropout with its training flag recorded as a constant.
  case frozenMode(path: String, operation: String)
  /// One parameter under two state_dict names (tied weights): SGD would step it twice.
  case sharedParameter(path: String, names: String)
  /// forward(images) failed or did not return logits [batch, classes].
  case badForward(path: String, inputShape: [Int], detail: String)
  case classCount(path: String, model: Int, dataset: Int)
  /// One training step (train mode, forward and backward) fails: found before a run starts.
  case untrainable(path: String, detail: String)
  /// The file's checksum is not the one the run recorded when it started.
  case changed(path: String, recorded: String, found: String)

  public var description: String {
    switch self {
    case .missing(let path): return "\(path): model file not found"
    case .notTorchScript(let path, let detail):
      return "\(path) is not a TorchScript module (save one with torch.jit.script(model).save(path), "
        + "or scripts/export_model.py): \(detail)"
    case .frozenMode(let path, let operation):
      return "\(path) looks traced (torch.jit.trace), not scripted: \(operation), so its mode cannot change between "
        + "training and evaluation (BatchNorm statistics, dropout). Export it with torch.jit.script "
        + "(scripts/export_model.py says what to change when scripting fails)"
    case .sharedParameter(let path, let names):
      return "\(path): \(names) (tied weights), which agr cannot train: each state_dict entry is trained as a "
        + "tensor of its own, so this one would be updated twice per step"
    case .badForward(let path, let shape, let detail):
      return "\(path): forward must take one image tensor [batch, \(shape.map(String.init).joined(separator: ", "))] "
        + "and return logits [batch, classes]: \(detail)"
    case .classCount(let path, let model, let dataset):
      return "\(path) gives \(model) logits per image but the dataset has \(dataset) classes"
    case .untrainable(let path, let detail):
      return "\(path) cannot be trained: \(detail) (one training step's forward and backward pass in train mode, "
        + "tried on 2 images before the run starts)"
    case .changed(let path, let recorded, let found):
      return "\(path) changed since the run started (checksum \(found), the run recorded \(recorded)); "
        + "restore that file, or start a new run"
    }
  }
}
