/// A setting that is out of range or unknown, named by its key in `config.json` (snake case, dotted
/// for nested settings such as `perturbation.epsilon`); a command-line layer maps the key to its flag.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
  /// What is wrong with the setting, for callers that act on it (a grid names an unknown key its own way).
  public enum Kind: Sendable, Equatable {
    /// A value out of range, of the wrong type, or inconsistent with another setting.
    case invalid
    /// A key that no setting has.
    case unknownSetting
  }

  public let key: String
  public let message: String
  public let kind: Kind

  public init(key: String, _ message: String, kind: Kind = .invalid) {
    self.key = key
    self.message = message
    self.kind = kind
  }

  public var description: String { "\(key): \(message)" }
}
