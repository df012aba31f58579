import Foundation

/// Settings files (run files, grid files) as a tree of values: JSON, or YAML for files named `.yaml` / `.yml`.
/// The one reader of such files, and so the one place that keeps their budget: a file larger than
/// `maximumBytes`, nested deeper than `maximumDepth`, or holding more than `maximumValues` values once
/// YAML's aliases are expanded (a "billion laughs" file of under 1 KB would expand to 10^9) is refused
/// before it is built, as are more than `maximumAliases` aliases, a key given twice in one object (JSON
/// readers differ on which one counts) and a number that is not finite. Errors name the key (dotted,
/// as `perturbation.epsilon`; `axes.seed[2]` inside lists) and the line.
enum StructuredText {
  /// A run or grid file is a few KB; config.json about 2 KB.
  static let maximumBytes = 1 << 20
  static let maximumDepth = 64
  static let maximumValues = 100_000
  static let maximumAliases = 1_000

  static func read(_ url: URL) throws -> JSONValue { try parse(try bytes(of: url), yaml: isYAML(url)) }

  static func isYAML(_ url: URL) -> Bool { ["yaml", "yml"].contains(url.pathExtension.lowercased()) }

  static func parse(_ data: Data, yaml: Bool) throws -> JSONValue {
    yaml ? try YAMLText.tree(data) : try JSONText.tree(data)
  }

  /// The file's bytes; a file past `maximumBytes`, a folder or a FIFO / device (which could block or never
  /// end) is refused without reading more than the budget.
  static func bytes(of url: URL) throws -> Data {
    if let problem = DatasetFile.notRegularFile(url) { throw StructuredTextError("could not be read: \(problem)") }
    let handle: FileHandle
    do { handle = try FileHandle(forReadingFrom: url) } catch {
      throw StructuredTextError("could not be read: \(describe(error))")
    }
    defer { try? handle.close() }
    let data: Data
    do { data = try handle.read(upToCount: maximumBytes + 1) ?? Data() } catch {
      throw StructuredTextError("could not be read: \(describe(error))")
    }
    guard data.count <= maximumBytes else {
      throw StructuredTextError("is larger than \(maximumBytes >> 20) MiB, the most a settings file may hold (a run or grid "
        + "file is a few KB): not read")
    }
    return data
  }

  /// The key of a value inside the object at `path` ("perturbation" + "steps" = "perturbation.steps").
  static func path(_ path: String, key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

  /// "'perturbation.steps'" for a key, "the top level" for the file itself.
  static func name(_ path: String) -> String { path.isEmpty ? "the top level" : "'\(path)'" }

  /// How much of the budget a file has used: values (each alias counts the values it stands for) and aliases.
  struct Budget {
    private(set) var values = 0
    private(set) var aliases = 0

    mutating func add(values count: Int, at path: String, line: @autoclosure () -> Int) throws {
      values += count
      guard values <= StructuredText.maximumValues else {
        throw StructuredTextError(key: path, "holds more than \(StructuredText.maximumValues) values (at \(StructuredText.name(path)), "
          + "line \(line())\(aliases > 0 ? ", with its aliases expanded" : "")): not a settings file; refused")
      }
    }

    mutating func addAlias(at path: String, line: @autoclosure () -> Int) throws {
      aliases += 1
      guard aliases <= StructuredText.maximumAliases else {
        throw StructuredTextError(key: path, "uses more than \(StructuredText.maximumAliases) aliases (at \(StructuredText.name(path)), "
          + "line \(line())): not a settings file; refused")
      }
    }

    static func checkDepth(_ depth: Int, at path: String, line: @autoclosure () -> Int) throws {
      guard depth <= StructuredText.maximumDepth else {
        throw StructuredTextError(key: path, "is nested more than \(StructuredText.maximumDepth) levels deep (at \(StructuredText.name(path)), "
          + "line \(line())): not a settings file; refused")
      }
    }
  }
}

/// Why a settings file cannot be read: `message` follows the file's path ("<file> is not JSON: ..."); `key`,
/// when the fault is one value's, is its dotted key.
struct StructuredTextError: Error {
  let key: String?
  let message: String
  init(key: String? = nil, _ message: String) {
    self.key = key
    self.message = message
  }
}
