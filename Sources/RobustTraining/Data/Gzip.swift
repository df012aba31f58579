import CZlib
import Foundation

/// Gzip decoding with the system zlib.
enum Gzip {
  static func hasMagic(_ bytes: Data) -> Bool {
    bytes.count >= 2 && bytes[bytes.startIndex] == 0x1f && bytes[bytes.startIndex + 1] == 0x8b
  }

  /// Decompresses every gzip member in `compressed` (concatenated members are one stream, as `gunzip` reads them).
  /// `file` only names the source in errors. `limit` sees the output so far after every chunk and returns the
  /// most bytes the output may hold once it knows (from a header inside the data), or throws: a stream that
  /// inflates past it (a decompression bomb) is refused before it fills the memory.
  static func decompress(_ compressed: Data, file: String, limit: (Data) throws -> Int? = { _ in nil }) throws -> Data {
    guard hasMagic(compressed) else { throw DatasetError.corruptGzip(file: file, detail: "no gzip signature") }
    var stream = z_stream()
    // 15 window bits + 16: gzip wrapper only.
    guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw DatasetError.corruptGzip(file: file, detail: "zlib could not start")
    }
    defer { inflateEnd(&stream) }

    var output = Data()
    let chunkSize = 1 << 20
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    try compressed.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
      stream.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
      stream.avail_in = uInt(input.count)
      while true {
        let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
          stream.next_out = buffer.baseAddress
          stream.avail_out = uInt(chunkSize)
          let status = inflate(&stream, Z_NO_FLUSH)
          return (status, chunkSize - Int(stream.avail_out))
        }
        output.append(contentsOf: chunk[0..<produced])
        if let most = try limit(output), output.count > most {
          throw DatasetError.wrongSize(
            file: file, detail: "inflates to more than the \(most) bytes its header allows (stopped there)")
        }
        switch status {
        case Z_STREAM_END:
          // Another member may follow; anything but a gzip signature after the end is rejected.
          guard stream.avail_in > 0 else { return }
          let rest = input.count - Int(stream.avail_in)
          guard stream.avail_in >= 2, input[rest] == 0x1f, input[rest + 1] == 0x8b else {
            throw DatasetError.corruptGzip(file: file, detail: "\(stream.avail_in) stray bytes after the compressed data")
          }
          guard inflateReset(&stream) == Z_OK else {
            throw DatasetError.corruptGzip(file: file, detail: "zlib could not restart for the next member")
          }
        case Z_OK:
          continue
        case Z_BUF_ERROR where stream.avail_in == 0:
          throw DatasetError.corruptGzip(file: file, detail: "truncated: the data ends before the gzip stream does")
        default:
          let reason = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
          throw DatasetError.corruptGzip(file: file, detail: reason)
        }
      }
    }
    return output
  }
}
