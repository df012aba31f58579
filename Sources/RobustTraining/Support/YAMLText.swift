import Foundation
import Yams

/// YAML settings files (Yams, the libyaml-based Swift package), read into the same tree as JSON, so that a
/// YAML run or grid file is exactly as strict as the JSON one.
enum YAMLText {
  static func tree(_ data: Data) throws -> JSONValue {
    let text = String(decoding: data, as: UTF8.self)
    do {
      // Parsed first on its own, so that a syntax error is reported as one (the decoder wraps it).
      _ = try Yams.compose(yaml: text)
      return try YAMLDecoder().decode(JSONValue.self, from: text)
    } catch let error as YamlError {
      throw StructuredTextError("is not YAML: \(error)")
    } catch {
      throw StructuredTextError("is not a YAML mapping of settings: \(error)")
    }
  }
}
