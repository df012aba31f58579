import Foundation

/// Settings files as a tree of values: JSON, or YAML for files named `.yaml` / `.yml`.
enum StructuredText {
  static func read(_ url: URL) throws -> JSONValue {
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw StructuredTextError("could not be read: \(describe(error))") }
    return try parse(data, yaml: isYAML(url))
  }

  static func isYAML(_ url: URL) -> Bool { ["yaml", "yml"].contains(url.pathExtension.lowercased()) }

  static func parse(_ data: Data, yaml: Bool) throws -> JSONValue {
    if yaml { return try YAMLText.tree(data) }
    do { return try JSONDecoder().decode(JSONValue.self, from: data) } catch {
      throw StructuredTextError("is not JSON: \(describe(error))")
    }
  }
}

struct StructuredTextError: Error {
  let message: String
  init(_ message: String) { self.message = message }
}
