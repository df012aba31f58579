import Foundation

/// Reading dataset files whole, plain or gzipped.
enum DatasetFile {
  /// The first of `names` (each also tried with ".gz") that exists in `directory`.
  static func locate(_ names: [String], in directory: URL) throws -> URL {
    let candidates = names.flatMap { [directory.appendingPathComponent($0), directory.appendingPathComponent($0 + ".gz")] }
    for url in candidates where FileManager.default.fileExists(atPath: url.path) { return url }
    throw DatasetError.missingFile(candidates: candidates.map(\.path))
  }

  /// The file's bytes, decompressed when it is gzip (by extension or by signature); `limit` bounds the
  /// decompressed size (see `Gzip.decompress`).
  static func read(_ url: URL, limit: (Data) throws -> Int? = { _ in nil }) throws -> Data {
    guard FileManager.default.fileExists(atPath: url.path) else { throw DatasetError.missingFile(candidates: [url.path]) }
    if let problem = notRegularFile(url) { throw DatasetError.unreadable(file: url.path, reason: problem) }
    let raw: Data
    do {
      raw = try Data(contentsOf: url)
    } catch {
      throw DatasetError.unreadable(file: url.path, reason: describe(error))
    }
    if url.pathExtension == "gz" || Gzip.hasMagic(raw) { return try Gzip.decompress(raw, file: url.path, limit: limit) }
    return raw
  }

  /// Why `url` cannot be read as a data file (a FIFO, a device such as /dev/zero, a folder), or nil.
  static func notRegularFile(_ url: URL) -> String? {
    guard let type = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.type] as? FileAttributeType else {
      return nil  // the read reports it
    }
    switch type {
    case .typeRegular: return nil
    case .typeDirectory: return "a folder, not a file"
    default: return "not a regular file (\(type.rawValue))"
    }
  }

  /// `path` opened read-only, with its size from fstat; the caller closes the descriptor. Errors name the file.
  static func open(_ path: String) throws -> (descriptor: Int32, status: stat) {
    let descriptor = Foundation.open(path, O_RDONLY)
    guard descriptor >= 0 else { throw DatasetError.unreadable(file: path, reason: String(cString: strerror(errno))) }
    var status = stat()
    guard fstat(descriptor, &status) == 0 else {
      let reason = String(cString: strerror(errno))
      close(descriptor)
      throw DatasetError.unreadable(file: path, reason: reason)
    }
    return (descriptor, status)
  }

  /// The memory this machine has, the bound for anything a file's header asks to allocate.
  static var memoryBound: Int { Int(clamping: ProcessInfo.processInfo.physicalMemory) }
}
