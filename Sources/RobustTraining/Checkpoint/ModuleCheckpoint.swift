import Foundation
import Torch

/// A module's `stateDict()` in a safetensors file, under PyTorch's key names.
public enum ModuleCheckpoint {
  public static func save(_ module: any Module, to url: URL, metadata: [String: String] = [:]) throws {
    try save(module, to: url, metadata: metadata, beforeRename: {})
  }

  static func save(_ module: any Module, to url: URL, metadata: [String: String], beforeRename: () -> Void) throws {
    try save(stateDict: module.stateDict(), to: url, metadata: metadata, beforeRename: beforeRename)
  }

  /// Writes named tensors (a state dict, e.g. a weight average's) as a checkpoint.
  static func save(stateDict: [(name: String, tensor: Tensor)], to url: URL, metadata: [String: String],
                   beforeRename: () -> Void = {}) throws
  {
    let tensors = try stateDict.map { (name: $0.name, tensor: try $0.tensor.detached()) }
    try SafeTensors(tensors: tensors, metadata: metadata).write(to: url, beforeRename: beforeRename)
  }

  /// Copies the checkpoint's tensors into `module`'s existing tensors, in place and without
  /// recording gradients; tensors keep their identity, device and dtype. Nothing is copied unless
  /// the checkpoint matches the module exactly: the same keys, the same shapes.
  /// - Returns: the checkpoint's metadata.
  @discardableResult
  public static func load(into module: any Module, from url: URL) throws -> [String: String] {
    let file = try SafeTensors.read(from: url)
    try load(into: module, from: file, path: url.path)
    return file.metadata
  }

  /// `load(into:from:)` from tensors already read; `path` names their source in errors.
  static func load(into module: any Module, from file: SafeTensors, path: String) throws {
    let pairs = try matched(module.stateDict(), with: file, path: path)
    try Autograd.withNoGrad {
      for (destination, source) in pairs { try destination.copy_(source) }
    }
  }

  /// Pairs each module tensor with its checkpoint tensor, or throws naming the first key that does not fit.
  static func matched(_ state: [(name: String, tensor: Tensor)], with file: SafeTensors, path: String) throws
    -> [(Tensor, Tensor)]
  {
    var stored = [String: Tensor]()
    for (name, tensor) in file.tensors { stored[name] = tensor }
    let wanted = Set(state.map(\.name))
    if let missing = state.first(where: { stored[$0.name] == nil }) {
      throw CheckpointError.missingKey(file: path, key: missing.name)
    }
    if let unexpected = file.tensors.first(where: { !wanted.contains($0.name) }) {
      throw CheckpointError.unexpectedKey(file: path, key: unexpected.name)
    }
    return try state.map { name, tensor in
      guard let source = stored[name] else { throw CheckpointError.missingKey(file: path, key: name) }
      guard source.shape == tensor.shape else {
        throw CheckpointError.shapeMismatch(file: path, key: name, expected: tensor.shape, found: source.shape)
      }
      return (tensor, source)
    }
  }
}
