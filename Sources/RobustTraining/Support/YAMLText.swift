import Foundation

/// YAML files: not read yet.
enum YAMLText {
  static func tree(_ data: Data) throws -> JSONValue {
    throw StructuredTextError("YAML is not supported; write the file as JSON")
  }
}
