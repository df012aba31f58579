import CZlib
import Foundation

/// A reader for MATLAB level-5 MAT-files (`save -v6` / `-v7`), for what the ILSVRC devkit's `meta.mat` holds:
/// the top-level variables of class double (or any numeric class, stored in any numeric type), char, struct
/// and cell, each variable plain (`miMATRIX`) or zlib-compressed (`miCOMPRESSED`, MATLAB's default since v7);
/// files of either byte order. Sparse, object and function-handle arrays are read as `.unsupported`; complex
/// arrays keep their real part. MATLAB 7.3 files (HDF5) and level-4 files are refused. Every malformed or
/// truncated element throws a `DatasetError` naming the file and the byte offset.
enum MATFile {
  /// One array.
  indirect enum Value: Equatable {
    /// A numeric array's (real) elements in column-major order, whatever type the file stored them in.
    case numeric(dimensions: [Int], values: [Double])
    /// A char array's rows (a 1 x N array is one string).
    case char(dimensions: [Int], rows: [String])
    /// A struct array: its field names and, per element (column-major), the field values in that order.
    case structs(dimensions: [Int], fields: [String], elements: [[Value]])
    case cell(dimensions: [Int], elements: [Value])
    /// An array of a class this reader does not decode (the MAT-file class number).
    case unsupported(classNumber: Int)

    /// The value of `field` in each element of a struct array.
    func field(_ name: String) -> [Value]? {
      guard case .structs(_, let fields, let elements) = self, let i = fields.firstIndex(of: name) else { return nil }
      return elements.map { $0[i] }
    }

    /// The one number of a 1 x 1 numeric array.
    var scalar: Double? {
      if case .numeric(_, let values) = self, values.count == 1 { return values[0] }
      return nil
    }

    /// The string of a 1 x N (or empty) char array.
    var string: String? {
      guard case .char(let dimensions, let rows) = self else { return nil }
      if dimensions.contains(0) { return "" }
      return rows.count == 1 ? rows[0] : nil
    }
  }

  // Data types (the element tags) and array classes of the format (MathWorks, "MAT-File Format", level 5).
  static let miINT8: UInt32 = 1, miUINT8: UInt32 = 2, miINT16: UInt32 = 3, miUINT16: UInt32 = 4, miINT32: UInt32 = 5
  static let miUINT32: UInt32 = 6, miSINGLE: UInt32 = 7, miDOUBLE: UInt32 = 9, miINT64: UInt32 = 12, miUINT64: UInt32 = 13
  static let miMATRIX: UInt32 = 14, miCOMPRESSED: UInt32 = 15, miUTF8: UInt32 = 16, miUTF16: UInt32 = 17, miUTF32: UInt32 = 18
  static let mxCELL = 1, mxSTRUCT = 2, mxCHAR = 4

  /// Nesting deeper than this (structs of cells of structs ...) is refused rather than recursed into.
  static let maxDepth = 32
  /// A compressed variable may inflate to at most this many bytes (its tag states the size; this stops a
  /// stream that claims less than it holds, or a bomb).
  static let maxInflated = 1 << 28
  /// A file may hold at most this many arrays in all (the devkit's meta.mat holds about 11,000): empty arrays
  /// take 8 bytes in the file but far more in memory, so this, not the byte limit, bounds what a crafted file costs.
  static let maxArrays = 1 << 20

  /// Arrays read so far, over all the reader's variables.
  final class Count { var arrays = 0 }

  /// The file's top-level variables by name, in file order.
  static func read(_ url: URL) throws -> [(name: String, value: Value)] {
    try parse(DatasetFile.read(url), file: url.path)
  }

  static func parse(_ data: Data, file: String) throws -> [(name: String, value: Value)] {
    let bytes = [UInt8](data)
    guard bytes.count >= 128 else {
      throw DatasetError.wrongSize(file: file, detail: "\(bytes.count) bytes, shorter than a MAT-file's 128-byte header")
    }
    let text = String(decoding: bytes[0..<116], as: UTF8.self)
    if text.hasPrefix("MATLAB 7.3") {
      throw DatasetError.unsupported("\(file): a MATLAB 7.3 (HDF5) MAT-file; only level-5 files are read (in MATLAB or "
        + "Octave: load it and save it again with -v7)")
    }
    guard text.hasPrefix("MATLAB") else {
      throw DatasetError.badMagic(file: file, detail: "not a level-5 MAT-file (its header text does not start with \"MATLAB\")")
    }
    let swapped: Bool
    switch (bytes[126], bytes[127]) {
    case (UInt8(ascii: "I"), UInt8(ascii: "M")): swapped = false
    case (UInt8(ascii: "M"), UInt8(ascii: "I")): swapped = true
    default: throw DatasetError.badMagic(file: file, detail: "no endian indicator (IM or MI) at bytes 126-127")
    }
    var variables = [(name: String, value: Value)]()
    var offset = 128
    let count = Count()
    while offset < bytes.count {
      let reader = Reader(bytes: bytes, swapped: swapped, file: file, base: 0, count: count)
      let element = try reader.element(at: offset, topLevel: true)
      offset = element.next
      switch element.type {
      case miMATRIX:
        variables.append(try reader.matrix(element.payload, depth: 0))
      case miCOMPRESSED:
        let inflated = try inflate(Array(bytes[element.payload]), file: file, at: element.start)
        let inner = Reader(bytes: inflated, swapped: swapped, file: file, base: element.start, count: reader.count)
        let matrix = try inner.element(at: 0, topLevel: true)
        guard matrix.type == miMATRIX else {
          throw DatasetError.invalidContent(
            file: file, detail: "byte \(element.start): a compressed element holds a type-\(matrix.type) element, not an array")
        }
        variables.append(try inner.matrix(matrix.payload, depth: 0))
      default:
        continue  // other top-level data (none in MATLAB's files): skipped
      }
    }
    return variables
  }

  /// The bytes of one zlib stream (a compressed element's payload), checked against `maxInflated` as they come.
  static func inflate(_ compressed: [UInt8], file: String, at start: Int) throws -> [UInt8] {
    func failure(_ detail: String) -> DatasetError {
      .invalidContent(file: file, detail: "byte \(start): compressed element: \(detail)")
    }
    var stream = z_stream()
    guard inflateInit_(&stream, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
      throw failure("zlib could not start")
    }
    defer { inflateEnd(&stream) }
    var output = [UInt8]()
    let chunkSize = 1 << 16
    var chunk = [UInt8](repeating: 0, count: chunkSize)
    try compressed.withUnsafeBufferPointer { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress)
      stream.avail_in = uInt(input.count)
      while true {
        let (status, produced) = chunk.withUnsafeMutableBufferPointer { buffer -> (Int32, Int) in
          stream.next_out = buffer.baseAddress
          stream.avail_out = uInt(chunkSize)
          let status = CZlib.inflate(&stream, Z_NO_FLUSH)
          return (status, chunkSize - Int(stream.avail_out))
        }
        output.append(contentsOf: chunk[0..<produced])
        guard output.count <= maxInflated else { throw failure("inflates to more than \(maxInflated) bytes") }
        switch status {
        case Z_STREAM_END: return
        case Z_OK: continue
        case Z_BUF_ERROR where stream.avail_in == 0: throw failure("truncated: the data ends before the zlib stream does")
        default: throw failure(stream.msg.map { String(cString: $0) } ?? "zlib status \(status)")
        }
      }
    }
    return output
  }

  /// Reads the elements of one buffer (the file, or a compressed element inflated). `base` is where the buffer
  /// came from in the file, for the errors' offsets.
  struct Reader {
    let bytes: [UInt8]
    let swapped: Bool
    let file: String
    let base: Int
    let count: Count

    struct Element {
      let type: UInt32
      let start: Int
      let payload: Range<Int>
      let next: Int
    }

    func failure(_ offset: Int, _ detail: String) -> DatasetError {
      .invalidContent(file: file, detail: "byte \(base + offset): \(detail)")
    }

    func u32(_ at: Int) -> UInt32 {
      let v = UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
      return swapped ? v.byteSwapped : v
    }

    /// The element whose tag starts at `offset`: a small element (type and size in one word, up to 4 bytes of
    /// data in the next), or a tag of two words and the data padded to 8 bytes. A compressed element is not
    /// padded (MATLAB writes none after it).
    func element(at offset: Int, topLevel: Bool = false, within end: Int? = nil) throws -> Element {
      let end = end ?? bytes.count
      guard offset + 8 <= end else {
        throw failure(offset, "truncated: \(end - offset) bytes left where an 8-byte element tag is due")
      }
      let word = u32(offset)
      if word >> 16 != 0 {
        let size = Int(word >> 16)
        guard size <= 4 else { throw failure(offset, "a small element claims \(size) bytes (at most 4)") }
        return Element(type: word & 0xffff, start: offset, payload: offset + 4..<offset + 4 + size, next: offset + 8)
      }
      let size = Int(u32(offset + 4))
      guard size <= end - offset - 8 else {
        throw failure(offset, "truncated: a type-\(word) element of \(size) bytes, but \(end - offset - 8) bytes are left")
      }
      let padded = word == MATFile.miCOMPRESSED ? size : (size + 7) & ~7
      return Element(type: word, start: offset, payload: offset + 8..<offset + 8 + size,
                     next: min(offset + 8 + padded, end))
    }

    /// The numbers of a numeric element, converted to Double.
    func numbers(_ element: Element) throws -> [Double] {
      let p = element.payload
      func raw<T: FixedWidthInteger>(_: T.Type) -> [T] {
        let width = MemoryLayout<T>.size
        return stride(from: p.lowerBound, to: p.upperBound - width + 1, by: width).map { at in
          var value: T = 0
          for k in 0..<width { value |= T(truncatingIfNeeded: bytes[at + k]) << (8 * k) }
          return swapped ? value.byteSwapped : value
        }
      }
      func read<T: FixedWidthInteger>(_ type: T.Type) -> [Double] { raw(type).map { Double($0) } }
      switch element.type {
      case MATFile.miINT8: return read(Int8.self)
      case MATFile.miUINT8: return read(UInt8.self)
      case MATFile.miINT16: return read(Int16.self)
      case MATFile.miUINT16: return read(UInt16.self)
      case MATFile.miINT32: return read(Int32.self)
      case MATFile.miUINT32: return read(UInt32.self)
      case MATFile.miINT64: return read(Int64.self)
      case MATFile.miUINT64: return read(UInt64.self)
      case MATFile.miSINGLE: return raw(UInt32.self).map { Double(Float(bitPattern: $0)) }
      case MATFile.miDOUBLE: return raw(UInt64.self).map { Double(bitPattern: $0) }
      default: throw failure(element.start, "a type-\(element.type) element where numbers are due")
      }
    }

    /// The array in a `miMATRIX` element's payload: flags, dimensions, name, then the class's data.
    func matrix(_ payload: Range<Int>, depth: Int) throws -> (name: String, value: Value) {
      guard depth <= MATFile.maxDepth else { throw failure(payload.lowerBound, "arrays nested deeper than \(MATFile.maxDepth)") }
      count.arrays += 1
      guard count.arrays <= MATFile.maxArrays else { throw failure(payload.lowerBound, "more than \(MATFile.maxArrays) arrays") }
      // An empty payload is an empty array (MATLAB writes [] in struct fields this way).
      if payload.isEmpty { return ("", .numeric(dimensions: [0, 0], values: [])) }
      let end = payload.upperBound
      let flags = try element(at: payload.lowerBound, within: end)
      guard flags.type == MATFile.miUINT32, flags.payload.count == 8 else {
        throw failure(flags.start, "an array's flags are not two 32-bit words")
      }
      let flagWord = u32(flags.payload.lowerBound)
      let classNumber = Int(flagWord & 0xff)
      let dims = try element(at: flags.next, within: end)
      guard dims.type == MATFile.miINT32, dims.payload.count >= 8, dims.payload.count % 4 == 0 else {
        throw failure(dims.start, "an array's dimensions are not two or more 32-bit integers")
      }
      let dimensions = try numbers(dims).map { d -> Int in
        guard d >= 0 else { throw failure(dims.start, "a negative dimension (\(Int(d)))") }
        return Int(d)
      }
      let count = dimensions.reduce(1) { $0.multipliedReportingOverflow(by: $1).overflow ? Int.max : $0 * $1 }
      let nameElement = try element(at: dims.next, within: end)
      guard nameElement.type == MATFile.miINT8 || nameElement.type == MATFile.miUINT8 else {
        throw failure(nameElement.start, "an array's name is a type-\(nameElement.type) element, not text")
      }
      let name = String(decoding: bytes[nameElement.payload], as: UTF8.self)
      var offset = nameElement.next

      switch classNumber {
      case 6...15:  // double, single, int8 ... uint64
        let real = try element(at: offset, within: end)
        let values = try numbers(real)
        guard values.count == count else {
          throw failure(real.start, "array \(name.isEmpty ? "(a field)" : name): \(values.count) numbers for dimensions \(dimensions)")
        }
        return (name, .numeric(dimensions: dimensions, values: values))

      case MATFile.mxCHAR:
        let data = try element(at: offset, within: end)
        let units: [UInt32]
        switch data.type {
        case MATFile.miUTF8:
          units = String(decoding: bytes[data.payload], as: UTF8.self).unicodeScalars.map(\.value)
        case MATFile.miUTF16:
          units = String(decoding: try numbers(Element(type: MATFile.miUINT16, start: data.start, payload: data.payload,
                                                       next: data.next)).map { UInt16($0) }, as: UTF16.self)
            .unicodeScalars.map(\.value)
        default:
          units = try numbers(data).map { UInt32(exactly: $0) ?? 0xfffd }
        }
        guard units.count == count else {
          throw failure(data.start, "char array \(name.isEmpty ? "(a field)" : name): \(units.count) characters for dimensions \(dimensions)")
        }
        // an empty array has no rows to list, whatever its first dimension claims
        let rows = count == 0 ? 0 : dimensions.first ?? 0
        let columns = rows == 0 ? 0 : count / rows
        let strings = (0..<rows).map { r in
          String(String.UnicodeScalarView((0..<columns).map { Unicode.Scalar(units[r + rows * $0]) ?? "\u{fffd}" }))
        }
        return (name, .char(dimensions: dimensions, rows: strings))

      case MATFile.mxSTRUCT:
        let lengthElement = try element(at: offset, within: end)
        guard lengthElement.type == MATFile.miINT32, let length = try numbers(lengthElement).first.map({ Int($0) }), length > 0 else {
          throw failure(lengthElement.start, "struct \(name): no field-name length")
        }
        let namesElement = try element(at: lengthElement.next, within: end)
        guard namesElement.type == MATFile.miINT8 || namesElement.type == MATFile.miUINT8,
              namesElement.payload.count % length == 0 else {
          throw failure(namesElement.start, "struct \(name): field names are not a multiple of \(length) bytes")
        }
        let fields = stride(from: namesElement.payload.lowerBound, to: namesElement.payload.upperBound, by: length).map {
          String(decoding: bytes[$0..<$0 + length].prefix { $0 != 0 }, as: UTF8.self)
        }
        offset = namesElement.next
        var elements = [[Value]]()
        // Each element's fields follow one another; the count is checked against the bytes left as they are read.
        for _ in 0..<(fields.isEmpty ? 0 : count) {
          var values = [Value]()
          for field in fields {
            let child = try element(at: offset, within: end)
            guard child.type == MATFile.miMATRIX else {
              throw failure(child.start, "struct \(name), field \(field): a type-\(child.type) element, not an array")
            }
            values.append(try matrix(child.payload, depth: depth + 1).value)
            offset = child.next
          }
          elements.append(values)
        }
        return (name, .structs(dimensions: dimensions, fields: fields, elements: elements))

      case MATFile.mxCELL:
        var elements = [Value]()
        for _ in 0..<count {
          let child = try element(at: offset, within: end)
          guard child.type == MATFile.miMATRIX else {
            throw failure(child.start, "cell array \(name): a type-\(child.type) element, not an array")
          }
          elements.append(try matrix(child.payload, depth: depth + 1).value)
          offset = child.next
        }
        return (name, .cell(dimensions: dimensions, elements: elements))

      default:
        return (name, .unsupported(classNumber: classNumber))
      }
    }
  }
}
