import Foundation

extension TrainingConfiguration {
  /// A configuration from a run file: the JSON `agr train --dry-run` prints and a run's `config.json` holds,
  /// or the same settings in YAML (a file named `.yaml` / `.yml`).
  /// Strict, so that a typo is not silently a default: an unknown key, a value of the wrong type, a null,
  /// or a setting out of range is a `ConfigurationError` naming the key (dotted for nested ones).
  public static func read(from url: URL) throws -> TrainingConfiguration {
    guard StructuredText.isYAML(url) else {
      let data: Data
      do { data = try Data(contentsOf: url) } catch {
        throw ConfigurationError(key: "config", "\(url.path): cannot read: \(describe(error))")
      }
      return try decode(data, file: url.path)
    }
    do { return try decode(try StructuredText.read(url).data, file: url.path) } catch let error as StructuredTextError {
      throw ConfigurationError(key: "config", "\(url.path) \(error.message)")
    }
  }

  /// `read(from:)` on bytes; `file` names them in errors.
  public static func decode(_ data: Data, file: String = "<configuration>") throws -> TrainingConfiguration {
    let object: Any
    do { object = try JSONSerialization.jsonObject(with: data) } catch {
      throw ConfigurationError(key: "config", "\(file) is not JSON: \(describe(error))")
    }
    guard let given = object as? [String: Any] else { throw ConfigurationError(key: "config", "\(file) is not a JSON object") }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let configuration: TrainingConfiguration
    do {
      configuration = try decoder.decode(TrainingConfiguration.self, from: data)
    } catch let error as DecodingError {
      throw Self.configurationError(error, file: file)
    }
    // Every key given must be one the configuration has: the decoded value written out again holds
    // exactly the keys that were understood.
    let known = try JSONSerialization.jsonObject(with: try RunDirectory.configurationJSON(configuration))
    if let unknown = unknownKey(given, known: known) {
      throw ConfigurationError(key: unknown, "\(file): no such setting (agr train --dry-run prints them all)")
    }
    try configuration.validate()
    return configuration
  }

  private static func unknownKey(_ given: Any, known: Any, path: String = "") -> String? {
    guard let given = given as? [String: Any] else { return nil }
    let known = known as? [String: Any] ?? [:]
    for key in given.keys.sorted() {
      let name = path.isEmpty ? key : "\(path).\(key)"
      guard let value = given[key], !(value is NSNull) else { return name }
      guard let expected = known[key] else { return name }
      if let nested = unknownKey(value, known: expected, path: name) { return nested }
    }
    return nil
  }

  private static func configurationError(_ error: DecodingError, file: String) -> ConfigurationError {
    func key(_ path: [CodingKey]) -> String {
      path.map { $0.intValue.map { "[\($0)]" } ?? snakeCase($0.stringValue) }.joined(separator: ".")
        .replacingOccurrences(of: ".[", with: "[")
    }
    switch error {
    case .typeMismatch(let type, let context):
      return ConfigurationError(key: key(context.codingPath), "\(file): expected \(type), \(context.debugDescription)")
    case .valueNotFound(_, let context):
      return ConfigurationError(key: key(context.codingPath), "\(file): a value is missing")
    case .keyNotFound(let missing, let context):
      return ConfigurationError(key: key(context.codingPath + [missing]), "\(file): required but missing")
    case .dataCorrupted(let context):
      return ConfigurationError(key: key(context.codingPath), "\(file): \(context.debugDescription)")
    @unknown default:
      return ConfigurationError(key: "config", "\(file): \(error)")
    }
  }

  private static func snakeCase(_ name: String) -> String {
    name.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
  }
}
