/// A setting that is out of range or unknown, named by its key in `config.json` (snake case, dotted
/// for nested settings such as `perturbation.epsilon`); a command-line layer maps the key to its flag.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
  public let key: String
  public let message: String

  public init(key: String, _ message: String) {
    self.key = key
    self.message = message
  }

  public var description: String { "\(key): \(message)" }
}
