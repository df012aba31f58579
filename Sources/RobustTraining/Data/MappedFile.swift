import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file mapped read-only into memory: its pages are read from disk when touched and can be dropped again
/// by the kernel, so a file larger than the machine's memory is read a few rows at a time without a copy.
final class MappedFile {
  let path: String
  let count: Int
  let bytes: UnsafeRawPointer

  init(_ url: URL) throws {
    path = url.path
    guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.missingFile(candidates: [path]) }
    if let problem = DatasetFile.notRegularFile(url) { throw DatasetError.unreadable(file: path, reason: problem) }
    let (descriptor, status) = try DatasetFile.open(path)
    defer { close(descriptor) }
    count = Int(status.st_size)
    guard count > 0 else { throw DatasetError.wrongSize(file: path, detail: "the file is empty") }
    guard let address = mmap(nil, count, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
      throw DatasetError.unreadable(file: path, reason: "cannot map it into memory: \(String(cString: strerror(errno)))")
    }
    // Rows are read in random order: no read-ahead beyond the pages asked for.
    _ = madvise(address, count, MADV_RANDOM)
    bytes = UnsafeRawPointer(address)
  }

  deinit { munmap(UnsafeMutableRawPointer(mutating: bytes), count) }

  /// Drops the pages around `range` from this process's resident set (they stay in the page cache, and are
  /// read again if touched): rows copied out of a file larger than memory then do not accumulate as resident
  /// pages over an epoch. The whole 64 KB-aligned blocks are dropped: a fault maps the cached pages of its
  /// block too (Linux's fault-around, 64 KB by default).
  func release(_ range: Range<Int>) {
    let block = 1 << 16
    let start = range.lowerBound / block * block
    let end = Swift.min(count, (range.upperBound + block - 1) / block * block)
    guard end > start else { return }
    _ = madvise(UnsafeMutableRawPointer(mutating: bytes + start), end - start, MADV_DONTNEED)
  }

  /// The bytes at `range`, copied (for headers).
  func data(_ range: Range<Int>) -> [UInt8] {
    [UInt8](UnsafeRawBufferPointer(start: bytes + range.lowerBound, count: range.count))
  }

  /// A little-endian unsigned integer of `size` bytes at `offset` (the caller checks the bounds).
  func littleEndian(at offset: Int, size: Int) -> UInt64 {
    (0..<size).reduce(UInt64(0)) { value, k in value | UInt64(bytes.load(fromByteOffset: offset + k, as: UInt8.self)) << (8 * k) }
  }
}
