import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Whole-file writes that readers never see half done: the bytes go to a temporary file in the
/// same folder (so the rename stays on one file system), are flushed to disk, then renamed over the target.
enum AtomicFile {
  /// The name a temporary file of `url` has while it is written.
  static func isTemporary(_ name: String) -> Bool { name.hasPrefix(".") && name.hasSuffix(".tmp") }

  /// `beforeRename` runs when the temporary file is complete (a test hook).
  static func write(_ data: Data, to url: URL, beforeRename: () -> Void = {}) throws {
    let folder = url.deletingLastPathComponent()
    let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
    do {
      try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
        throw CheckpointError.io(file: url.path, reason: "cannot create a temporary file in \(folder.path)")
      }
      let handle = try FileHandle(forWritingTo: temporary)
      do {
        try handle.write(contentsOf: data)
        try handle.synchronize()
        try handle.close()
      } catch {
        try? handle.close()
        throw error
      }
      beforeRename()
      guard rename(temporary.path, url.path) == 0 else {
        throw CheckpointError.io(file: url.path, reason: "cannot replace the file: \(String(cString: strerror(errno)))")
      }
    } catch let error as CheckpointError {
      try? FileManager.default.removeItem(at: temporary)
      throw error
    } catch {
      try? FileManager.default.removeItem(at: temporary)
      throw CheckpointError.io(file: url.path, reason: "cannot write: \(describe(error))")
    }
  }
}
