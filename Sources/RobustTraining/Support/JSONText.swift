import Foundation

/// JSON settings files read into a `JSONValue`, strictly and within `StructuredText`'s budget: RFC 8259's
/// grammar, a key given twice in one object refused by name (Foundation's readers keep one of them
/// silently), numbers that are not finite (1e400) refused by key, depth and value count bounded.
/// Whole numbers that fit an `Int` stay integers; a syntax error says where (line and column).
struct JSONText {
  private let bytes: [UInt8]
  private var index = 0
  private var budget = StructuredText.Budget()

  private init(_ data: Data) {
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }  // a UTF-8 byte order mark
    self.bytes = bytes
  }

  static func tree(_ data: Data) throws -> JSONValue {
    var reader = JSONText(data)
    let value = try reader.value(key: .root, depth: 0)
    reader.skipSpace()
    guard reader.index == reader.bytes.count else { throw reader.syntax("text after the end of the JSON value") }
    return value
  }

  /// The line of `position` (of the current byte by default): counted only for a message.
  private func line(at position: Int? = nil) -> Int { Self.line(in: bytes, at: position ?? index) }

  private static func line(in bytes: [UInt8], at position: Int) -> Int {
    bytes[..<min(position, bytes.count)].reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
  }

  private func syntax(_ problem: String, at position: Int? = nil) -> StructuredTextError {
    let at = min(position ?? index, bytes.count)
    let lineStart = bytes[..<at].lastIndex(of: 0x0A).map { $0 + 1 } ?? 0
    return StructuredTextError("is not JSON: line \(line(at: at)), column \(at - lineStart + 1): \(problem)")
  }

  private mutating func skipSpace() {
    while index < bytes.count {
      switch bytes[index] {
      case 0x20, 0x09, 0x0A, 0x0D: index += 1
      default: return
      }
    }
  }

  private var current: String {
    guard index < bytes.count else { return "the end of the file" }
    let byte = bytes[index]
    return byte >= 0x20 && byte < 0x7F ? "'\(Character(Unicode.Scalar(byte)))'" : String(format: "byte 0x%02X", byte)
  }

  private mutating func expect(_ byte: UInt8, _ what: String) throws {
    skipSpace()
    guard index < bytes.count, bytes[index] == byte else { throw syntax("expected \(what), found \(current)") }
    index += 1
  }

  /// A value's key, spelt out only for a message ("perturbation.steps", "axes.seed[2]").
  private indirect enum Key {
    case root
    case member(Key, String)
    case element(Key, Int)

    var path: String {
      switch self {
      case .root: return ""
      case .member(let parent, let name): return StructuredText.path(parent.path, key: name)
      case .element(let parent, let index): return "\(parent.path)[\(index)]"
      }
    }
  }

  private mutating func value(key: Key, depth: Int) throws -> JSONValue {
    skipSpace()
    guard index < bytes.count else { throw syntax("expected a value, found the end of the file") }
    if depth > StructuredText.maximumDepth { try StructuredText.Budget.checkDepth(depth, at: key.path, line: line()) }
    if budget.values >= StructuredText.maximumValues {
      let (text, position) = (bytes, index)
      try budget.add(values: 1, at: key.path, line: Self.line(in: text, at: position))
    } else {
      try budget.add(values: 1, at: "", line: 0)
    }
    let path = key
    switch bytes[index] {
    case UInt8(ascii: "{"): return try object(key: path, depth: depth)
    case UInt8(ascii: "["): return try array(key: path, depth: depth)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try literal("true", .bool(true))
    case UInt8(ascii: "f"): return try literal("false", .bool(false))
    case UInt8(ascii: "n"): return try literal("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number(key: path)
    default: throw syntax("expected a value, found \(current)")
    }
  }

  private mutating func literal(_ word: String, _ value: JSONValue) throws -> JSONValue {
    let expected = Array(word.utf8)
    guard bytes[index...].starts(with: expected) else { throw syntax("expected a value, found \(current)") }
    index += expected.count
    return value
  }

  private mutating func object(key parent: Key, depth: Int) throws -> JSONValue {
    index += 1
    var members = [String: JSONValue]()
    var positions = [String: Int]()
    skipSpace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
      index += 1
      return .object(members)
    }
    while true {
      skipSpace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw syntax("expected a key in quotes, found \(current)") }
      let position = index
      let key = try string()
      if let first = positions[key] {
        let child = Key.member(parent, key).path
        throw StructuredTextError(key: child, "gives the key '\(child)' twice (lines \(line(at: first)) and \(line(at: position))); "
          + "give each key once")
      }
      positions[key] = position
      try expect(UInt8(ascii: ":"), "':' after the key")
      members[key] = try value(key: .member(parent, key), depth: depth + 1)
      skipSpace()
      guard index < bytes.count else { throw syntax("expected ',' or '}', found the end of the file") }
      if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
      if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
      throw syntax("expected ',' or '}', found \(current)")
    }
  }

  private mutating func array(key parent: Key, depth: Int) throws -> JSONValue {
    index += 1
    var elements = [JSONValue]()
    skipSpace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
      index += 1
      return .array(elements)
    }
    while true {
      elements.append(try value(key: .element(parent, elements.count), depth: depth + 1))
      skipSpace()
      guard index < bytes.count else { throw syntax("expected ',' or ']', found the end of the file") }
      if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
      if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
      throw syntax("expected ',' or ']', found \(current)")
    }
  }

  private mutating func string() throws -> String {
    let start = index
    index += 1
    var out = [UInt8]()
    while true {
      guard index < bytes.count else { throw syntax("a string that does not end", at: start) }
      let byte = bytes[index]
      index += 1
      switch byte {
      case UInt8(ascii: "\""):
        guard let text = String(bytes: out, encoding: .utf8) else { throw syntax("a string that is not UTF-8 text", at: start) }
        return text
      case 0..<0x20: throw syntax("a control character inside a string (write it as an escape such as \\n)", at: index - 1)
      case UInt8(ascii: "\\"):
        guard index < bytes.count else { throw syntax("a string that does not end", at: start) }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
          var scalar = try hex4()
          if (0xD800..<0xDC00).contains(scalar), bytes[index...].starts(with: Array("\\u".utf8)) {
            index += 2
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw syntax("an unpaired UTF-16 surrogate escape", at: index - 6) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
          }
          guard let unicode = Unicode.Scalar(scalar) else { throw syntax("an unpaired UTF-16 surrogate escape", at: index - 6) }
          out.append(contentsOf: Array(String(Character(unicode)).utf8))
        default: throw syntax("an unknown escape '\\\(Character(Unicode.Scalar(escape)))'", at: index - 2)
        }
      default: out.append(byte)
      }
    }
  }

  private mutating func hex4() throws -> UInt32 {
    guard index + 4 <= bytes.count, let value = UInt32(String(decoding: bytes[index..<(index + 4)], as: UTF8.self), radix: 16),
      bytes[index..<(index + 4)].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") })
    else { throw syntax("a \\u escape without four hexadecimal digits", at: index - 2) }
    index += 4
    return value
  }

  private mutating func number(key: Key) throws -> JSONValue {
    let start = index
    func digits() -> Int {
      let first = index
      while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
      return index - first
    }
    if bytes[index] == UInt8(ascii: "-") { index += 1 }
    let integerStart = index
    guard digits() > 0 else { throw syntax("a number without digits", at: start) }
    if bytes[integerStart] == UInt8(ascii: "0"), index - integerStart > 1 { throw syntax("a number with a leading zero", at: start) }
    var whole = true
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      whole = false
      guard digits() > 0 else { throw syntax("a number with no digit after its '.'", at: start) }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      whole = false
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard digits() > 0 else { throw syntax("a number with no digit in its exponent", at: start) }
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    if whole, let integer = Int(text) { return .integer(integer) }
    guard let number = Double(text), number.isFinite else {
      let path = key.path
      throw StructuredTextError(key: path, "has \(StructuredText.name(path)): \(text.prefix(40))\(text.count > 40 ? "…" : "") "
        + "(line \(line(at: start))), a number out of range")
    }
    return .number(number)
  }
}
