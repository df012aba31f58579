import Foundation

/// One array in NumPy's `.npy` format, as it lies in a mapped file (alone, or as a stored member of an
/// `.npz`): the magic `\x93NUMPY`, a version, the header's length, a Python dict literal
/// `{'descr': '|u1', 'fortran_order': False, 'shape': (N, H, W, C), }`, then the elements row-major.
struct NPYArray {
  /// The dtype as NumPy writes it: byte order (`<`, `>`, `|`, `=`), kind (`u`, `i`, `f`, ...), item size.
  let descr: String
  let kind: Character
  let itemSize: Int
  let bigEndian: Bool
  let shape: [Int]
  /// Where the first element lies in the mapped file.
  let dataOffset: Int
  /// What the array is called in errors: "FILE" or "FILE: member 'image'".
  let name: String

  var elementCount: Int { shape.reduce(1, *) }

  static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// The array whose bytes are `file`'s `range`; every length is checked against it.
  init(in file: MappedFile, range: Range<Int>, name: String) throws {
    self.name = name
    func bad(_ detail: String) -> DatasetError { .invalidContent(file: name, detail: detail) }
    guard range.count >= 10, file.data(range.lowerBound..<range.lowerBound + 6) == Self.magic else {
      throw DatasetError.badMagic(file: name, detail: "not a NumPy .npy array (no \\x93NUMPY magic)")
    }
    let major = file.data(range.lowerBound + 6..<range.lowerBound + 7)[0]
    let lengthSize: Int
    switch major {
    case 1: lengthSize = 2
    case 2, 3: lengthSize = 4
    default: throw DatasetError.badMagic(file: name, detail: ".npy format version \(major), not one NumPy writes (1, 2 or 3)")
    }
    guard range.count >= 8 + lengthSize else {
      throw DatasetError.wrongSize(file: name, detail: "\(range.count) bytes, too short for a .npy header")
    }
    let headerLength = Int(file.littleEndian(at: range.lowerBound + 8, size: lengthSize))
    let headerStart = range.lowerBound + 8 + lengthSize
    guard headerStart + headerLength <= range.upperBound else {
      throw DatasetError.wrongSize(
        file: name, detail: "the .npy header is \(headerLength) bytes long but only \(range.upperBound - headerStart) follow: truncated")
    }
    guard let header = String(bytes: file.data(headerStart..<headerStart + headerLength), encoding: major == 3 ? .utf8 : .isoLatin1)
    else { throw bad("the .npy header is not text") }
    guard let descr = Self.value(of: "descr", in: header), descr.hasPrefix("'") || descr.hasPrefix("\""),
          descr.count >= 3
    else { throw bad("the .npy header names no plain dtype ('descr'): \(header.trimmingCharacters(in: .whitespacesAndNewlines))") }
    let text = String(descr.dropFirst().dropLast())
    let order = text.first.flatMap { "<>|=".contains($0) ? $0 : nil }
    let body = order == nil ? Substring(text) : text.dropFirst()
    guard let kind = body.first, let size = Int(body.dropFirst()), size > 0 else { throw bad("unknown dtype '\(text)'") }
    guard let fortran = Self.value(of: "fortran_order", in: header) else { throw bad("the .npy header has no 'fortran_order'") }
    guard fortran == "False" else {
      throw bad("the array is stored in Fortran (column-major) order; save np.ascontiguousarray(array) instead")
    }
    guard let shapeText = Self.value(of: "shape", in: header), shapeText.hasPrefix("("), shapeText.hasSuffix(")") else {
      throw bad("the .npy header has no 'shape'")
    }
    let dimensions = shapeText.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    var shape = [Int]()
    for d in dimensions {
      guard let n = Int(d.hasSuffix("L") ? String(d.dropLast()) : d), n >= 0 else { throw bad("the shape \(shapeText) is not one of sizes") }
      shape.append(n)
    }
    var bytes = size
    for n in shape {
      let (product, overflow) = bytes.multipliedReportingOverflow(by: n)
      guard !overflow else { throw bad("the shape \(shapeText) overflows") }
      bytes = product
    }
    self.descr = text
    self.kind = kind
    self.itemSize = size
    self.bigEndian = order == ">" && size > 1
    self.shape = shape
    self.dataOffset = headerStart + headerLength
    let held = range.upperBound - dataOffset
    guard held >= bytes else {
      throw DatasetError.wrongSize(
        file: name, detail: "its header promises \(shape) of '\(text)' = \(bytes) bytes, only \(held) follow: truncated")
    }
    guard held == bytes else {
      throw DatasetError.wrongSize(file: name, detail: "its header promises \(shape) of '\(text)' = \(bytes) bytes, \(held) follow")
    }
  }

  /// The text of `key`'s value in a Python dict literal (a quoted string, a tuple, or a bare word).
  static func value(of key: String, in header: String) -> String? {
    for quote in ["'", "\""] {
      guard let keyRange = header.range(of: "\(quote)\(key)\(quote)") else { continue }
      var rest = header[keyRange.upperBound...].drop { $0 == " " }
      guard rest.first == ":" else { return nil }
      rest = rest.dropFirst().drop { $0 == " " }
      guard let first = rest.first else { return nil }
      if first == "'" || first == "\"" {
        guard let end = rest.dropFirst().firstIndex(of: first) else { return nil }
        return String(rest[...end])
      }
      if first == "(" {
        guard let end = rest.firstIndex(of: ")") else { return nil }
        return String(rest[...end])
      }
      return String(rest.prefix { $0.isLetter || $0.isNumber })
    }
    return nil
  }

  /// Whether the elements are integers (signed or not) of a size this reader decodes.
  var isInteger: Bool { (kind == "i" || kind == "u") && [1, 2, 4, 8].contains(itemSize) }

  /// Element `index` of an integer array, as Int64 (the caller checks `isInteger` and the index; a uint64
  /// past Int64's range comes out negative).
  func integer(at index: Int, in file: MappedFile) -> Int64 {
    func load<T: FixedWidthInteger>(_: T.Type) -> Int64 {
      let raw = file.bytes.loadUnaligned(fromByteOffset: dataOffset + index * MemoryLayout<T>.size, as: T.self)
      return Int64(truncatingIfNeeded: bigEndian ? raw.byteSwapped : raw)
    }
    return load(integerType)
  }

  /// The first element of an integer array outside `0..<bound`, with its index, or nil: one pass over the
  /// array in place.
  func firstInteger(outside bound: Int64, in file: MappedFile) -> (index: Int, value: Int64)? {
    func scan<T: FixedWidthInteger>(_: T.Type) -> (index: Int, value: Int64)? {
      let values = (file.bytes + dataOffset)
      for index in 0..<elementCount {
        let raw = values.loadUnaligned(fromByteOffset: index &* MemoryLayout<T>.size, as: T.self)
        let value = Int64(truncatingIfNeeded: bigEndian ? raw.byteSwapped : raw)
        if value < 0 || value >= bound { return (index, value) }
      }
      return nil
    }
    return scan(integerType)
  }

  /// The Swift type of this integer array's elements.
  private var integerType: any FixedWidthInteger.Type {
    switch (kind, itemSize) {
    case ("i", 1): return Int8.self
    case ("i", 2): return Int16.self
    case ("i", 4): return Int32.self
    case ("i", 8): return Int64.self
    case ("u", 1): return UInt8.self
    case ("u", 2): return UInt16.self
    case ("u", 4): return UInt32.self
    default: return UInt64.self
    }
  }
}
