import Foundation

/// One run of a grid: its stable name (the axis values' tokens), its cell (the name without the seed)
/// and its full configuration.
public struct GridRun: Equatable, Sendable {
  /// "trades_agr_seed1": one token per axis, in `GridAxis` order; the run's folder name.
  public let name: String
  /// The name without the replicate (seed) token: runs of one cell differ only in their seed.
  public let cell: String
  /// (axis key, token) per axis.
  public let tokens: [Token]
  public var configuration: TrainingConfiguration

  public struct Token: Equatable, Sendable {
    public let axis: String
    public let value: String
  }

  public func token(of axis: String) -> String? { tokens.first { $0.axis == axis }?.value }

  /// The cell's name with `axis`'s token replaced (the same cell without AGR, say), or nil when the run has no such axis.
  func cell(with axis: String, _ value: String) -> String? {
    guard token(of: axis) != nil else { return nil }
    return tokens.filter { $0.axis != GridAxis.replicateKey }.map { $0.axis == axis ? value : $0.value }
      .joined(separator: GridRun.separator)
  }

  static let separator = "_"
}

extension ExperimentGrid {
  /// Every combination of the axes' values as a run, the seed axis outermost (so that a first complete
  /// table needs only the first seed's runs). Throws a `GridError` for a cell whose settings are not a
  /// valid configuration, or for two cells with the same name.
  public func runs() throws -> [GridRun] {
    let base = try JSONValue.of(preset.configuration)
    let fixed = settings.reduce(base) { $0.setting($1.key, to: $1.value) }
    let outermostFirst = axes.sorted { ($0.key == GridAxis.replicateKey ? 0 : 1) < ($1.key == GridAxis.replicateKey ? 0 : 1) }
    var combinations: [[(GridAxis, GridAxis.Value)]] = [[]]
    for axis in outermostFirst {
      combinations = combinations.flatMap { prefix in axis.values.map { prefix + [(axis, $0)] } }
    }
    var runs = [GridRun]()
    var seen = [String: String]()
    for combination in combinations {
      let chosen = axes.map { axis in combination.first { $0.0.key == axis.key }! }
      let tokens = chosen.map { GridRun.Token(axis: $0.0.key, value: $0.1.token) }
      let name = tokens.map(\.value).joined(separator: GridRun.separator)
      let description = chosen.map { "\($0.0.key)=\($0.1.token)" }.joined(separator: ", ")
      if let other = seen[name] {
        throw GridError(file: file, "two runs resolve to the same name '\(name)' (\(other) and \(description)); "
          + "give the axis values distinct labels ({\"label\": ..., ...})")
      }
      seen[name] = description
      var tree = fixed
      for (_, value) in chosen { tree = value.settings.reduce(tree) { $0.setting($1.key, to: $1.value) } }
      let cell = tokens.filter { $0.axis != GridAxis.replicateKey }.map(\.value).joined(separator: GridRun.separator)
      runs.append(GridRun(name: name, cell: cell, tokens: tokens, configuration: try configuration(tree, run: name, chosen: chosen)))
    }
    return runs
  }

  private func configuration(_ tree: JSONValue, run: String, chosen: [(GridAxis, GridAxis.Value)]) throws -> TrainingConfiguration {
    let given = Set(settings.keys).union(chosen.flatMap { $0.1.settings.keys })
    do {
      var c = try TrainingConfiguration.decode(tree.data, file: "run \(run)")
      // As `agr train --lr` does: a learning rate given without a schedule moves the preset's schedule with it.
      if given.contains("learning_rate") && !given.contains(where: { $0 == "schedule" || $0.hasPrefix("schedule.") }) {
        c.schedule = c.schedule.rebased(to: c.learningRate)
      }
      return c
    } catch let error as ConfigurationError {
      if let axis = axes.first(where: { $0.key == error.key }), error.message.contains("no such setting") {
        throw GridError(file: file, "axes.\(axis.key): not a setting of a run (agr train --dry-run prints them all)")
      }
      if settings[error.key] != nil, error.message.contains("no such setting") {
        throw GridError(file: file, "settings.\(error.key): not a setting of a run (agr train --dry-run prints them all)")
      }
      throw GridError(file: file, "\(error.key): \(error.message)")
    }
  }
}
