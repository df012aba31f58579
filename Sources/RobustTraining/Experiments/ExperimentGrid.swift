import Foundation

/// An experiment grid (`agr grid FILE`): a starting preset, fixed settings, and axes whose every
/// combination is one training run. The file is strict, as a run file is: an unknown key, an axis
/// that is not a setting, an empty axis or a value of the wrong type is a `GridError` naming it.
///
///     {
///       "preset": "cifar10",
///       "settings": {"epochs": 200, "device": "cuda"},
///       "axes": {
///         "method": ["at", "trades", "mart", {"label": "at-awp", "method": "at", "awp": true}],
///         "agr": [false, true],
///         "seed": [0, 1, 2]
///       },
///       "evaluation": {"pgd_steps": 20, "autoattack": "aa", "autoattack_examples": 1000}
///     }
///
/// An axis is a configuration key (dotted for nested ones, as `perturbation.epsilon`); a value is what
/// that key takes, or an object of several settings with a `label` that names it in run names.
public struct ExperimentGrid {
  /// The grid's name: its file name without the extension (the default runs folder is `runs/<name>`).
  public let name: String
  public let file: String
  public let preset: TrainingPreset
  /// The fixed settings, as the configuration's JSON writes them (snake case, nested objects).
  let settings: [String: JSONValue]
  public let axes: [GridAxis]
  public let evaluation: GridEvaluation
  public let summary: String?

  static let topLevelKeys = ["description", "preset", "settings", "axes", "evaluation"]

  /// Reads a grid from a JSON (or, named `.yaml` / `.yml`, YAML) file.
  public static func read(from url: URL) throws -> ExperimentGrid {
    let tree: JSONValue
    do { tree = try StructuredText.read(url) } catch let error as StructuredTextError {
      throw GridError(file: url.path, error.message)
    }
    return try ExperimentGrid(tree, file: url.path, name: url.deletingPathExtension().lastPathComponent)
  }

  init(_ tree: JSONValue, file: String, name: String) throws {
    guard case .object(let top) = tree else { throw GridError(file: file, "is not an object of settings") }
    if let unknown = top.keys.sorted().first(where: { !Self.topLevelKeys.contains($0) }) {
      throw GridError(file: file, "unknown key '\(unknown)' (a grid has \(Self.topLevelKeys.joined(separator: ", ")))")
    }
    self.name = name
    self.file = file
    if let value = top["preset"] {
      guard case .string(let text) = value, let named = TrainingPreset(rawValue: text) else {
        throw GridError(file: file, "preset: expected one of \(TrainingPreset.allCases.map(\.rawValue).joined(separator: ", ")), got \(value.text)")
      }
      preset = named
    } else {
      preset = .quickstart
    }
    switch top["settings"] ?? .object([:]) {
    case .object(let object): settings = object
    default: throw GridError(file: file, "settings: expected an object of configuration keys")
    }
    guard case .object(let axesObject) = top["axes"] ?? .null, !axesObject.isEmpty else {
      throw GridError(file: file, "axes: expected an object with at least one axis, e.g. {\"seed\": [0, 1]}")
    }
    axes = try GridAxis.ordered(axesObject.map { try GridAxis(key: $0.key, json: $0.value, file: file) })
    evaluation = try GridEvaluation(top["evaluation"], file: file)
    summary = top["description"].map(\.text)
  }
}

/// A grid file that cannot be used: "<file>: <what is wrong>".
public struct GridError: Error, CustomStringConvertible {
  public let description: String

  public init(file: String, _ message: String) { description = "\(file): \(message)" }
}
