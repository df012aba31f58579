import Foundation

/// One axis of a grid: a configuration key and the values it takes, each with the token that stands
/// for it in run names.
public struct GridAxis {
  public let key: String
  public let values: [Value]

  /// A value of an axis: the settings it makes (one key, or several for an object value) and its token.
  public struct Value {
    public let token: String
    let settings: [String: JSONValue]
  }

  /// The axis that repeats a cell: the table takes mean and standard deviation over it.
  public static let replicateKey = "seed"

  /// Run names list axes in this order, then the others alphabetically, and the seed last.
  static let nameOrder = ["dataset", "model", "method", "awp", "agr"]

  init(key: String, json: JSONValue, file: String) throws {
    guard case .array(let list) = json else { throw GridError(file: file, "axes.\(key): expected a list of values") }
    guard !list.isEmpty else { throw GridError(file: file, "axes.\(key): the axis is empty; give it at least one value") }
    self.key = key
    values = try list.enumerated().map { index, value in
      guard case .object(var object) = value else {
        return Value(token: GridAxis.token(for: value, key: key), settings: [key: value])
      }
      guard case .string(let label) = object.removeValue(forKey: "label") ?? .null, !label.isEmpty else {
        throw GridError(file: file, "axes.\(key)[\(index)]: an object value needs a \"label\" (its name in run names)")
      }
      // the label names the run's folder: it must be one plain name, whatever the token would make of it
      if let problem = PathComponentName.problem(label) {
        throw GridError(file: file, "axes.\(key)[\(index)].label: \(PathComponentName.quoted(label)) \(problem); a label names "
          + "the run's folder, so it must be one plain name (letters, digits, '.', '+', '-')")
      }
      return Value(token: GridAxis.token(label), settings: object)
    }
  }

  static func ordered(_ axes: [GridAxis]) -> [GridAxis] {
    func rank(_ key: String) -> Int {
      key == replicateKey ? nameOrder.count + 1 : nameOrder.firstIndex(of: key) ?? nameOrder.count
    }
    return axes.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }
  }

  /// "trades" for a string, "agr" / "no-agr" for a boolean, "seed3" / "epsilon0.0314" for a number.
  static func token(for value: JSONValue, key: String) -> String {
    let last = String(key.split(separator: ".").last ?? Substring(key))
    switch value {
    case .bool(let on): return on ? token(last) : "no-" + token(last)
    case .integer, .number: return token(last + value.text)
    case .string(let text): return token(text)
    default: return token(last + "-" + value.text)
    }
  }

  /// Lower case letters, digits, '.', '+' and '-' only: a file name anywhere, and no '_' (it joins tokens).
  static func token(_ text: String) -> String {
    String(text.lowercased().map { ($0.isLetter && $0.isASCII) || $0.isNumber || ".+-".contains($0) ? $0 : "-" })
  }
}
