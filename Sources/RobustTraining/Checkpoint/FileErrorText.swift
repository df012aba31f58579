import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A short, true reason for a file-system error, with the path when the error carries one. Foundation's
/// own texts are a poor guide on Linux ("The file doesn't exist" for a file that cannot be written), so
/// the POSIX error behind it is used when there is one.
public func fileErrorText(_ error: Error) -> String {
  let ns = error as NSError
  guard ns.domain == NSPOSIXErrorDomain || ns.domain == NSCocoaErrorDomain else { return "\(error)" }
  let path = filePath(of: ns)
  let reason = fileErrorReason(ns, path: path)
  return path.map { "\($0): \(reason)" } ?? reason
}

private func filePath(of ns: NSError) -> String? {
  (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
}

private func fileErrorReason(_ ns: NSError, path: String?) -> String {
  if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
  if let underlying = (ns.userInfo[NSUnderlyingErrorKey] as? Error).map({ $0 as NSError }), underlying.domain == NSPOSIXErrorDomain {
    return String(cString: strerror(Int32(underlying.code)))
  }
  switch ns.code {
  case NSFileNoSuchFileError, NSFileReadNoSuchFileError: return "no such file or folder"
  case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: return "permission denied"
  case NSFileWriteOutOfSpaceError: return "no space left on the device"
  case NSFileWriteVolumeReadOnlyError: return "read-only file system"
  case NSFileWriteFileExistsError: return "a file is in the way"
  default: return path.flatMap(obstacle) ?? "the file operation failed (error \(ns.code))"
  }
}

/// Why nothing can be made at `path` when Foundation does not say (its error 512 when creating a folder below
/// a file): the nearest existing folder above it is a file, or cannot be written.
private func obstacle(_ path: String) -> String? {
  var url = URL(fileURLWithPath: path).standardizedFileURL
  while url.path != "/" {
    url = url.deletingLastPathComponent()
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else { continue }
    if !isFolder.boolValue { return "\(url.path) is a file, not a folder" }
    return FileManager.default.isWritableFile(atPath: url.path) ? nil : "\(url.path) cannot be written (permission denied)"
  }
  return nil
}

/// `fileErrorText`, for messages that name the file already.
func describe(_ error: Error) -> String {
  let ns = error as NSError
  guard ns.domain == NSPOSIXErrorDomain || ns.domain == NSCocoaErrorDomain else { return "\(error)" }
  return fileErrorReason(ns, path: filePath(of: ns))
}
