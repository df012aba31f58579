import CZlib
import Foundation

/// "crc32:<hex>:<bytes>" of a file: enough to notice that a model file was replaced or edited between
/// a run's start and its resume (not a defence against a forged file).
enum ModelFileChecksum {
  static func of(_ path: String) throws -> String {
    let data: Data
    do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch { throw ModelFileError.missing(path: path) }
    let crc = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> UInt in
      var crc: UInt = 0
      var offset = 0
      while offset < bytes.count {  // zlib takes 32-bit lengths
        let length = Swift.min(bytes.count - offset, 1 << 30)
        crc = CZlib.crc32(crc, bytes.baseAddress!.advanced(by: offset).assumingMemoryBound(to: Bytef.self), uInt(length))
        offset += length
      }
      return crc
    }
    return "crc32:" + String(format: "%08x", UInt32(truncatingIfNeeded: crc)) + ":\(data.count)"
  }
}
