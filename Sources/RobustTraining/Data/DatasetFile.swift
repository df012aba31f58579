import Foundation

/// Reading dataset files whole, plain or gzipped.
enum DatasetFile {
  /// The first of `names` (each also tried with ".gz") that exists in `directory`.
  static func locate(_ names: [String], in directory: URL) throws -> URL {
    let candidates = names.flatMap { [directory.appendingPathComponent($0), directory.appendingPathComponent($0 + ".gz")] }
    for url in candidates where FileManager.default.fileExists(atPath: url.path) { return url }
    throw DatasetError.missingFile(candidates: candidates.map(\.path))
  }

  /// The file's bytes, decompressed when it is gzip (by extension or by signature).
  static func read(_ url: URL) throws -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.missingFile(candidates: [url.path]) }
    let raw: Data
    do {
      raw = try Data(contentsOf: url)
    } catch {
      throw DatasetError.unreadable(file: url.path, reason: error.localizedDescription)
    }
    if url.pathExtension == "gz" || Gzip.hasMagic(raw) { return try Gzip.decompress(raw, file: url.path) }
    return raw
  }
}
