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
  let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
  var reason: String
  if ns.domain == NSPOSIXErrorDomain {
    reason = String(cString: strerror(Int32(ns.code)))
  } else if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
    reason = String(cString: strerror(Int32(underlying.code)))
  } else if ns.domain == NSCocoaErrorDomain {
    switch ns.code {
    case NSFileNoSuchFileError, NSFileReadNoSuchFileError: reason = "no such file or folder"
    case NSFileReadNoPermissionError, NSFileWriteNoPermissionError: reason = "permission denied"
    case NSFileWriteOutOfSpaceError: reason = "no space left on the device"
    case NSFileWriteVolumeReadOnlyError: reason = "read-only file system"
    case NSFileWriteFileExistsError: reason = "a file is in the way"
    default: reason = ns.localizedDescription
    }
  } else {
    return "\(error)"
  }
  return path.map { "\($0): \(reason)" } ?? reason
}

/// `fileErrorText`, for messages that name the file already.
func describe(_ error: Error) -> String {
  let ns = error as NSError
  guard ns.domain == NSPOSIXErrorDomain || ns.domain == NSCocoaErrorDomain else { return "\(error)" }
  var plain = ns.userInfo
  plain[NSFilePathErrorKey] = nil
  plain[NSURLErrorKey] = nil
  return fileErrorText(NSError(domain: ns.domain, code: ns.code, userInfo: plain))
}
