import Foundation

/// The members of a ZIP archive (an `.npz` is one, written by Python's `zipfile`), read from its central
/// directory, ZIP64 included (`np.savez` writes every member with ZIP64 sizes). Only what is needed to find
/// a stored member's bytes in place: names, compression, sizes and where each member's data starts.
struct ZipDirectory {
  struct Entry {
    let name: String
    /// 0: stored (uncompressed); 8: deflated (`np.savez_compressed`); others are not NumPy's.
    let method: Int
    let flags: Int
    let compressedSize: Int
    let uncompressedSize: Int
    let localHeaderOffset: Int

    var isEncrypted: Bool { flags & 1 != 0 }
  }

  let entries: [Entry]
  let file: MappedFile

  init(_ file: MappedFile) throws {
    self.file = file
    let path = file.path
    func bad(_ detail: String) -> DatasetError { .invalidContent(file: path, detail: detail) }
    func u(_ offset: Int, _ size: Int) -> Int { Int(clamping: file.littleEndian(at: offset, size: size)) }
    func signature(_ offset: Int) -> UInt64 { file.littleEndian(at: offset, size: 4) }
    guard file.count >= 22 else {
      throw DatasetError.wrongSize(file: path, detail: "\(file.count) bytes, too short for a ZIP (.npz) archive")
    }
    // The end-of-central-directory record: the last 22 bytes, or earlier when the archive has a comment.
    var end = -1
    for offset in stride(from: file.count - 22, through: Swift.max(0, file.count - 22 - 65_535), by: -1)
    where signature(offset) == 0x0605_4B50 {
      end = offset
      break
    }
    guard end >= 0 else {
      let start = file.data(0..<Swift.min(4, file.count))
      if start == [0x50, 0x4B, 0x03, 0x04] {
        throw DatasetError.wrongSize(file: path, detail: "a ZIP (.npz) archive without its end-of-central-directory record: truncated")
      }
      throw DatasetError.badMagic(file: path, detail: "not a ZIP (.npz) archive")
    }
    var entryCount = u(end + 10, 2)
    var directorySize = u(end + 12, 4)
    var directoryOffset = u(end + 16, 4)
    // ZIP64: a locator just before the record points at the ZIP64 end-of-central-directory record.
    if end >= 20, signature(end - 20) == 0x0706_4B50 {
      let record = u(end - 20 + 8, 8)
      guard record <= end - 56, signature(record) == 0x0606_4B50 else {
        throw bad("the ZIP64 end-of-central-directory locator points outside the archive")
      }
      entryCount = u(record + 32, 8)
      directorySize = u(record + 40, 8)
      directoryOffset = u(record + 48, 8)
    }
    // (sizes read from the file are clamped to Int and compared by subtraction: no sum of them can overflow)
    guard directoryOffset <= end, directorySize <= end - directoryOffset else {
      throw DatasetError.wrongSize(file: path, detail: "the central directory lies outside the archive: truncated or not one file")
    }
    var entries = [Entry]()
    var offset = directoryOffset
    for _ in 0..<entryCount {
      guard offset + 46 <= directoryOffset + directorySize, signature(offset) == 0x0201_4B50 else {
        throw bad("the central directory is damaged (entry \(entries.count + 1) of \(entryCount))")
      }
      let (nameLength, extraLength, commentLength) = (u(offset + 28, 2), u(offset + 30, 2), u(offset + 32, 2))
      guard offset + 46 + nameLength + extraLength + commentLength <= directoryOffset + directorySize else {
        throw bad("the central directory is damaged (entry \(entries.count + 1) of \(entryCount))")
      }
      let name = String(decoding: file.data(offset + 46..<offset + 46 + nameLength), as: UTF8.self)
      var compressed = u(offset + 20, 4)
      var uncompressed = u(offset + 24, 4)
      var local = u(offset + 42, 4)
      // ZIP64 sizes and offset: in the extra field 0x0001, each present only where the 32-bit field is all ones.
      var extra = offset + 46 + nameLength
      let extraEnd = extra + extraLength
      while extra + 4 <= extraEnd {
        let (id, size) = (u(extra, 2), u(extra + 2, 2))
        guard extra + 4 + size <= extraEnd else { throw bad("member '\(name)': a damaged extra field") }
        if id == 1 {
          var field = extra + 4
          let fieldEnd = field + size
          func next() throws -> Int {
            guard field + 8 <= fieldEnd else { throw bad("member '\(name)': a damaged ZIP64 field") }
            defer { field += 8 }
            return u(field, 8)
          }
          if uncompressed == 0xFFFF_FFFF { uncompressed = try next() }
          if compressed == 0xFFFF_FFFF { compressed = try next() }
          if local == 0xFFFF_FFFF { local = try next() }
        }
        extra += 4 + size
      }
      entries.append(Entry(name: name, method: u(offset + 10, 2), flags: u(offset + 8, 2), compressedSize: compressed,
                           uncompressedSize: uncompressed, localHeaderOffset: local))
      offset += 46 + nameLength + extraLength + commentLength
    }
    self.entries = entries
  }

  func entry(named name: String) -> Entry? { entries.first { $0.name == name } }

  /// Where `entry`'s (stored) bytes lie in the file, from its local header; throws when they run past its end.
  func dataRange(of entry: Entry) throws -> Range<Int> {
    let path = file.path
    let local = entry.localHeaderOffset
    guard local <= file.count - 30, file.littleEndian(at: local, size: 4) == 0x0403_4B50 else {
      throw DatasetError.invalidContent(file: path, detail: "member '\(entry.name)': no local header where the central directory puts it")
    }
    let start = local + 30 + Int(file.littleEndian(at: local + 26, size: 2)) + Int(file.littleEndian(at: local + 28, size: 2))
    guard entry.compressedSize <= file.count - start else {
      throw DatasetError.wrongSize(
        file: path, detail: "member '\(entry.name)' holds \(entry.compressedSize) bytes but the file ends "
          + "\(Swift.max(0, file.count - start)) bytes after its start: truncated")
    }
    return start..<start + entry.compressedSize
  }
}
