import Foundation

/// Why a dataset could not be loaded. Every message names the file and the problem.
public enum DatasetError: Error, CustomStringConvertible, Equatable {
  /// None of the candidate paths exists (each is listed).
  case missingFile(candidates: [String])
  case unreadable(file: String, reason: String)
  /// The file's length does not fit the format (not a whole number of records, or not what the header says).
  case wrongSize(file: String, detail: String)
  case badMagic(file: String, detail: String)
  case labelOutOfRange(file: String, index: Int, label: Int, classCount: Int)
  /// Gzip data that stops early or does not decode.
  case corruptGzip(file: String, detail: String)
  /// Two files that must agree (images and labels) do not.
  case mismatch(files: [String], detail: String)
  /// A file whose content is not what the format asks for (a missing array, a wrong dtype or shape).
  case invalidContent(file: String, detail: String)
  case unsupported(String)

  public var description: String {
    switch self {
    case .missingFile(let candidates):
      return candidates.count == 1
        ? "\(candidates[0]): file not found"
        : "file not found; looked for: \(candidates.joined(separator: ", "))"
    case .unreadable(let file, let reason): return "\(file): cannot read: \(reason)"
    case .wrongSize(let file, let detail): return "\(file): wrong size: \(detail)"
    case .badMagic(let file, let detail): return "\(file): bad header: \(detail)"
    case .labelOutOfRange(let file, let index, let label, let classCount):
      return "\(file): label \(label) of record \(index) is outside 0..<\(classCount)"
    case .corruptGzip(let file, let detail): return "\(file): corrupt gzip data: \(detail)"
    case .mismatch(let files, let detail): return "\(files.joined(separator: " and ")): \(detail)"
    case .invalidContent(let file, let detail): return "\(file): \(detail)"
    case .unsupported(let what): return what
    }
  }
}
