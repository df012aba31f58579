import Foundation

extension TrainingConfiguration {
  /// A configuration from a run file: the JSON `agr train --dry-run` prints and a run's `config.json` holds,
  /// or the same settings in YAML (a file named `.yaml` / `.yml`).
  /// Strict, so that a typo is not silently a default: an unknown key, a value of the wrong type, a null,
  /// or a setting out of range is a `ConfigurationError` naming the key (dotted for nested ones).
  public static func read(from url: URL) throws -> TrainingConfiguration {
    let data: Data
    do { data = try StructuredText.bytes(of: url) } catch let error as StructuredTextError { throw fileError(error, file: url.path) }
    return try parse(data, yaml: StructuredText.isYAML(url), file: url.path)
  }

  /// `read(from:)` on a file's bytes: YAML when `yaml` (a file named `.yaml` / `.yml`), else JSON.
  static func parse(_ data: Data, yaml: Bool, file: String) throws -> TrainingConfiguration {
    guard yaml else { return try decode(data, file: file) }
    do { return try decode(try YAMLText.tree(data).data, file: file) } catch let error as StructuredTextError {
      throw fileError(error, file: file)
    }
  }

  /// `read(from:)` on JSON bytes; `file` names them in errors. The bytes go through the settings-file reader
  /// first (a key given twice, a number out of range, nesting or size past its budget), then the decoder.
  public static func decode(_ data: Data, file: String = "<configuration>") throws -> TrainingConfiguration {
    let given: JSONValue
    do { given = try JSONText.tree(data) } catch let error as StructuredTextError { throw fileError(error, file: file) }
    guard case .object = given else { throw ConfigurationError(key: "config", "\(file) is not a JSON object") }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let configuration: TrainingConfiguration
    do {
      configuration = try decoder.decode(TrainingConfiguration.self, from: data)
    } catch let error as DecodingError {
      throw Self.configurationError(error, file: file, given: given)
    }
    // Every key given must be one the configuration has: the decoded value written out again holds
    // exactly the keys that were understood.
    let known = try JSONText.tree(try RunDirectory.configurationJSON(configuration))
    if let unknown = unknownKey(given, known: known) {
      throw ConfigurationError(key: unknown, "\(file): no such setting (agr train --dry-run prints them all)",
                               kind: .unknownSetting)
    }
    try configuration.validate()
    return configuration
  }

  /// A settings-file error as a `ConfigurationError`: the key at fault when there is one, else `config`.
  private static func fileError(_ error: StructuredTextError, file: String) -> ConfigurationError {
    ConfigurationError(key: error.key ?? "config", "\(file) \(error.message)")
  }

  private static func unknownKey(_ given: JSONValue, known: JSONValue, path: String = "") -> String? {
    guard case .object(let given) = given else { return nil }
    let known: [String: JSONValue] = if case .object(let object) = known { object } else { [:] }
    for key in given.keys.sorted() {
      let name = StructuredText.path(path, key: key)
      guard let value = given[key], value != .null else { return name }
      guard let expected = known[key] else { return name }
      if let nested = unknownKey(value, known: expected, path: name) { return nested }
    }
    return nil
  }

  private static func configurationError(_ error: DecodingError, file: String, given: JSONValue) -> ConfigurationError {
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
    case .dataCorrupted(let context) where context.codingPath.isEmpty:
      // Foundation's decoder names no key when a number does not fit the setting's type (1.5 or 1e20 for
      // an Int, -1 for the seed's UInt64): find the number whose replacement lets the decoding get further
      if let (path, value) = misfitNumber(in: given) {
        return ConfigurationError(key: path, "\(file): expected a whole number in this setting's range, got \(value.text)")
      }
      return ConfigurationError(key: "config", "\(file): \(context.debugDescription)")
    case .dataCorrupted(let context):
      return ConfigurationError(key: key(context.codingPath), "\(file): \(context.debugDescription)")
    @unknown default:
      return ConfigurationError(key: "config", "\(file): \(error)")
    }
  }

  /// The first number of `given` (by key, among the first 64 outside lists) that is not whole, or whole but
  /// outside `Int`, or negative, and without which the configuration decodes further (its replacement by 1
  /// changes the decoder's error).
  private static func misfitNumber(in given: JSONValue) -> (String, JSONValue)? {
    func failure(_ tree: JSONValue) -> String? {
      let decoder = JSONDecoder()
      decoder.keyDecodingStrategy = .convertFromSnakeCase
      do { _ = try decoder.decode(TrainingConfiguration.self, from: tree.data) } catch { return "\(error)" }
      return nil
    }
    func candidates(_ value: JSONValue, _ path: String) -> [(String, JSONValue)] {
      switch value {
      case .number: return [(path, value)]
      case .integer(let i) where i < 0: return [(path, value)]
      case .object(let o): return o.keys.sorted().flatMap { candidates(o[$0]!, StructuredText.path(path, key: $0)) }
      case .array(let a): return a.indices.flatMap { candidates(a[$0], "\(path)[\($0)]") }
      default: return []
      }
    }
    let original = failure(given)
    // a configuration has a few dozen numbers: past that many tries, a file full of them is not worth a decoding each
    return candidates(given, "").lazy.filter { !$0.0.contains("[") }.prefix(64).first { path, _ in
      failure(given.setting(path, to: .integer(1))) != original
    }
  }

  private static func snakeCase(_ name: String) -> String {
    name.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
  }
}

extension TrainingConfiguration {
  /// This configuration with each value at its dotted key (`perturbation.epsilon`), read back as strictly as
  /// a run file: an unknown key, a value of the wrong type or out of range is a `ConfigurationError` naming
  /// the key. A value is read as JSON (a number, true/false, null, a quoted string, an array, an object), as
  /// a fraction ("8/255"), else as a plain string. Any setting can be given this way (`agr train --set`), so
  /// a new one needs no flag of its own.
  public func setting(_ pairs: [(key: String, value: String)]) throws -> TrainingConfiguration {
    var tree = try JSONValue.of(self)
    for (key, text) in pairs {
      guard !key.isEmpty, !key.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty) else {
        throw ConfigurationError(key: key, "is not a setting's name (keys as in config.json: epochs, perturbation.epsilon)")
      }
      tree = tree.setting(key, to: Self.value(text))
    }
    return try Self.decode(tree.data, file: "the value given")
  }

  private static func value(_ text: String) -> JSONValue {
    if let value = try? JSONText.tree(Data(text.utf8)) { return value }
    let parts = text.split(separator: "/")
    if parts.count == 2, let a = Double(parts[0]), let b = Double(parts[1]), b != 0 { return .number(a / b) }
    return .string(text)
  }
}
