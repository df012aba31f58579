import Foundation
import Torch

/// Everything besides the model that a resumed run needs (optimizer buffers, generator states as
/// uint8 tensors, counters, configuration), in one atomically written safetensors file.
/// Tensors are stored by name; other values are stored as JSON strings in the file's metadata.
public struct TrainingState {
  public var tensors: [(name: String, tensor: Tensor)]
  /// Values by key, each the JSON encoding of a Codable value.
  public var metadata: [String: String]
  /// The file this state was read from, for error messages.
  public let source: String

  public init() {
    tensors = []
    metadata = [:]
    source = "<unsaved training state>"
  }

  init(file: SafeTensors, source: String) {
    tensors = file.tensors
    metadata = file.metadata
    self.source = source
  }

  public subscript(tensor name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

  /// Adds or replaces a tensor (stored detached, so saving never touches autograd).
  public mutating func setTensor(_ tensor: Tensor, forKey name: String) throws {
    let value = try tensor.detached()
    if let index = tensors.firstIndex(where: { $0.name == name }) {
      tensors[index].tensor = value
    } else {
      tensors.append((name, value))
    }
  }

  /// The tensor stored under `name`, or an error naming the key and the file.
  public func tensor(forKey name: String) throws -> Tensor {
    guard let t = self[tensor: name] else { throw CheckpointError.missingKey(file: source, key: name) }
    return t
  }

  public mutating func setValue<T: Encodable>(_ value: T, forKey key: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    do {
      metadata[key] = String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw CheckpointError.badMetadata(file: source, key: key, detail: "cannot encode \(T.self): \(error)")
    }
  }

  public func value<T: Decodable>(_ type: T.Type, forKey key: String) throws -> T {
    guard let json = metadata[key] else {
      throw CheckpointError.badMetadata(file: source, key: key, detail: "no such entry")
    }
    do {
      return try JSONDecoder().decode(T.self, from: Data(json.utf8))
    } catch {
      throw CheckpointError.badMetadata(file: source, key: key, detail: "does not decode as \(T.self): \(error)")
    }
  }

  public func save(to url: URL) throws { try save(to: url, beforeRename: {}) }

  func save(to url: URL, beforeRename: () -> Void) throws {
    try SafeTensors(tensors: tensors, metadata: metadata).write(to: url, beforeRename: beforeRename)
  }

  public static func load(from url: URL, device: Device = .cpu) throws -> TrainingState {
    TrainingState(file: try SafeTensors.read(from: url, device: device), source: url.path)
  }
}
