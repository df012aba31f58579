import Foundation

/// The idx format of MNIST-style datasets: a big-endian magic word (0, 0, element type, rank),
/// `rank` big-endian UInt32 sizes, then the elements row-major.
struct IDXFile {
  let dimensions: [Int]
  /// The elements (unsigned bytes; the only type these datasets use).
  let elements: Data

  static let unsignedByteType: UInt8 = 0x08

  init(contentsOf url: URL, expectedRank: Int) throws {
    let bytes = try DatasetFile.read(url) { output in
      // Once the header is in, the data may hold exactly what it promises.
      guard output.count >= 4 + 4 * expectedRank else { return nil }
      return try Self.promisedSize(header: [UInt8](output.prefix(4 + 4 * expectedRank)), file: url.path,
                                   expectedRank: expectedRank)
    }
    try self.init(bytes: bytes, file: url.path, expectedRank: expectedRank)
  }

  /// The whole file's size as a rank-`expectedRank` header promises it; throws for a header that is not
  /// one, overflows, or promises more than this machine's memory.
  static func promisedSize(header b: [UInt8], file: String, expectedRank: Int) throws -> Int {
    let magic = b.prefix(4).map { String(format: "%02x", $0) }.joined()
    guard b.count >= 4, b[0] == 0, b[1] == 0, b[2] == unsignedByteType, Int(b[3]) == expectedRank else {
      throw DatasetError.badMagic(
        file: file,
        detail: "idx magic 0x\(magic), expected 0x000008\(String(format: "%02x", expectedRank)) (unsigned bytes, rank \(expectedRank))")
    }
    let headerSize = 4 + 4 * expectedRank
    guard b.count >= headerSize else {
      throw DatasetError.wrongSize(file: file, detail: "\(b.count) bytes, too short for a rank-\(expectedRank) idx header")
    }
    let dimensions = (0..<expectedRank).map { k in b[4 + 4 * k..<8 + 4 * k].reduce(0) { $0 << 8 | Int($1) } }
    var expected = headerSize
    var elements = 1
    for d in dimensions {
      let (product, overflow) = elements.multipliedReportingOverflow(by: d)
      guard !overflow else { throw DatasetError.wrongSize(file: file, detail: "the header's sizes \(dimensions) overflow") }
      elements = product
    }
    expected += elements
    guard elements <= DatasetFile.memoryBound else {
      throw DatasetError.wrongSize(
        file: file, detail: "the header promises \(dimensions.map(String.init).joined(separator: "x")) = \(elements) bytes, "
          + "more than this machine's memory")
    }
    return expected
  }

  init(bytes: Data, file: String, expectedRank: Int) throws {
    let b = [UInt8](bytes.prefix(4 + 4 * expectedRank))
    guard b.count >= 4 else { throw DatasetError.wrongSize(file: file, detail: "\(bytes.count) bytes, too short for an idx header") }
    let headerSize = 4 + 4 * expectedRank
    let expected = try Self.promisedSize(header: b, file: file, expectedRank: expectedRank) - headerSize
    dimensions = (0..<expectedRank).map { k in b[4 + 4 * k..<8 + 4 * k].reduce(0) { $0 << 8 | Int($1) } }
    let actual = bytes.count - headerSize
    guard actual == expected else {
      throw DatasetError.wrongSize(
        file: file,
        detail: "the header promises \(dimensions.map(String.init).joined(separator: "x")) = \(expected) bytes of data, the file has \(actual)")
    }
    elements = bytes.subdata(in: bytes.startIndex + headerSize..<bytes.endIndex)
  }
}
