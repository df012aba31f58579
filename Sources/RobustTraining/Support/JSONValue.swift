import Foundation

/// Any JSON value: for showing a Codable's fields without knowing them (reports), and for editing a
/// configuration as the JSON it is written as (grids). Whole numbers stay integers, so that a value
/// written back decodes as an `Int` or `UInt64` again.
enum JSONValue: Codable, Equatable {
  case bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue]), null

  init(from decoder: Decoder) throws {
    let container = try decoder.singleValueContainer()
    if container.decodeNil() { self = .null }
    else if let b = try? container.decode(Bool.self) { self = .bool(b) }
    else if let i = try? container.decode(Int.self) { self = .integer(i) }
    else if let n = try? container.decode(Double.self) { self = .number(n) }
    else if let s = try? container.decode(String.self) { self = .string(s) }
    else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
    else { self = .object(try container.decode([String: JSONValue].self)) }
  }

  func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    switch self {
    case .bool(let b): try container.encode(b)
    case .integer(let i): try container.encode(i)
    case .number(let n): try container.encode(n)
    case .string(let s): try container.encode(s)
    case .array(let a): try container.encode(a)
    case .object(let o): try container.encode(o)
    case .null: try container.encodeNil()
    }
  }

  /// The value of an `Encodable` as JSON with snake-case keys (as `config.json` is written).
  static func of<T: Encodable>(_ value: T) throws -> JSONValue {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    return try JSONDecoder().decode(JSONValue.self, from: encoder.encode(value))
  }

  var data: Data { (try? JSONEncoder().encode(self)) ?? Data("null".utf8) }

  var text: String {
    switch self {
    case .bool(let b): return b ? "true" : "false"
    case .integer(let i): return String(i)
    case .number(let n): return n == n.rounded() && abs(n) < 1e15 ? String(Int(n)) : String(format: "%.6g", n)
    case .string(let s): return s
    case .array(let a): return a.map(\.text).joined(separator: ", ")
    case .object(let o): return o.keys.sorted().map { "\($0): \(o[$0]!.text)" }.joined(separator: ", ")
    case .null: return "–"
    }
  }

  func flattened(prefix: String) -> [(key: String, value: String)] {
    guard case .object(let o) = self else { return [(prefix, text)] }
    // Enum payloads encode as {"_0": value}; the key says nothing.
    return o.keys.sorted().flatMap { key in
      o[key]!.flattened(prefix: key == "_0" ? prefix : prefix.isEmpty ? key : "\(prefix).\(key)")
    }
  }

  /// This object with `value` at the dotted `key` ("perturbation.epsilon"), creating nested objects.
  func setting(_ key: String, to value: JSONValue) -> JSONValue {
    setting(path: key.split(separator: ".").map(String.init)[...], to: value)
  }

  private func setting(path: ArraySlice<String>, to value: JSONValue) -> JSONValue {
    guard let first = path.first else { return value }
    var object: [String: JSONValue] = [:]
    if case .object(let o) = self { object = o }
    object[first] = (object[first] ?? .null).setting(path: path.dropFirst(), to: value)
    return .object(object)
  }
}
