import Foundation

/// Why a safetensors file, model checkpoint or training-state file could not be read or written.
/// Every message names the file and, where there is one, the tensor key.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case missingFile(String)
  case io(file: String, reason: String)
  /// The file is not valid safetensors (bad header length, JSON, dtype, shape or offsets).
  case malformed(file: String, detail: String)
  /// A tensor cannot be stored (its name or dtype), or `metadata` cannot be encoded.
  case unsupported(file: String, detail: String)
  case missingKey(file: String, key: String)
  case unexpectedKey(file: String, key: String)
  case shapeMismatch(file: String, key: String, expected: [Int], found: [Int])
  /// A metadata value is absent or does not decode as the requested type.
  case badMetadata(file: String, key: String, detail: String)

  public var description: String {
    switch self {
    case .missingFile(let file): return "\(file): file not found"
    case .io(let file, let reason): return "\(file): \(reason)"
    case .malformed(let file, let detail): return "\(file): not a valid safetensors file: \(detail)"
    case .unsupported(let file, let detail): return "\(file): \(detail)"
    case .missingKey(let file, let key): return "\(file): checkpoint has no tensor '\(key)' that the model needs"
    case .unexpectedKey(let file, let key): return "\(file): checkpoint tensor '\(key)' does not exist in the model"
    case .shapeMismatch(let file, let key, let expected, let found):
      return "\(file): tensor '\(key)' has shape \(found) in the checkpoint but \(expected) in the model"
    case .badMetadata(let file, let key, let detail): return "\(file): metadata '\(key)': \(detail)"
    }
  }
}
