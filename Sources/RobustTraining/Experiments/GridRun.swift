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
  /// The most runs a grid may hold: far more than any table, few enough to plan in seconds.
  public static let maximumRuns = 10_000

  /// The number of runs the axes make (the product of their lengths), or nil past `Int.max`.
  public var runCount: Int? {
    axes.reduce(Int?(1)) { product, axis in
      product.flatMap { let (n, overflow) = $0.multipliedReportingOverflow(by: axis.values.count); return overflow ? nil : n }
    }
  }

  /// Every combination of the axes' values as a run, the seed axis outermost (so that a first complete
  /// table needs only the first seed's runs). Throws a `GridError` for more than `maximumRuns` runs (before
  /// any is made), a run name that is not one path component, a cell whose settings are not a valid
  /// configuration, or two cells with the same name. Linear in the number of runs.
  public func runs() throws -> [GridRun] {
    guard let count = runCount, count <= Self.maximumRuns else {
      let sizes = axes.map { "\($0.values.count) \($0.key)" }.joined(separator: " x ")
      throw GridError(file: file, "the axes make \(runCount.map { "\($0)" } ?? "more than \(Int.max)") runs (\(sizes)); a grid "
        + "holds at most \(Self.maximumRuns): split it into several grids")
    }
    let base = try JSONValue.of(preset.configuration)
    let fixed = settings.reduce(base) { $0.setting($1.key, to: $1.value) }
    // the seed axis outermost; each run's value of each axis by index, in `axes` order
    let order = axes.indices.sorted { (axes[$0].key == GridAxis.replicateKey ? 0 : 1, $0) < (axes[$1].key == GridAxis.replicateKey ? 0 : 1, $1) }
    var runs = [GridRun]()
    runs.reserveCapacity(count)
    var seen = [String: String]()
    var choice = [Int](repeating: 0, count: axes.count)
    for _ in 0..<count {
      let chosen = axes.indices.map { (axes[$0], axes[$0].values[choice[$0]]) }
      let tokens = chosen.map { GridRun.Token(axis: $0.0.key, value: $0.1.token) }
      let name = tokens.map(\.value).joined(separator: GridRun.separator)
      let description = chosen.map { "\($0.0.key)=\($0.1.token)" }.joined(separator: ", ")
      if let problem = PathComponentName.problem(name) {
        throw GridError(file: file, "the run \(description) would be named \(PathComponentName.quoted(name)), which \(problem); "
          + "a run's name is its folder's: give the value a label ({\"label\": ..., ...})")
      }
      if let other = seen[name] {
        throw GridError(file: file, "two runs resolve to the same name '\(name)' (\(other) and \(description)); "
          + "give the axis values distinct labels ({\"label\": ..., ...})")
      }
      seen[name] = description
      var tree = fixed
      for (_, value) in chosen { tree = value.settings.reduce(tree) { $0.setting($1.key, to: $1.value) } }
      let cell = tokens.filter { $0.axis != GridAxis.replicateKey }.map(\.value).joined(separator: GridRun.separator)
      runs.append(GridRun(name: name, cell: cell, tokens: tokens, configuration: try configuration(tree, run: name, chosen: chosen)))
      // the next combination: the innermost axis (last in `order`) moves fastest
      for position in order.reversed() {
        choice[position] += 1
        if choice[position] < axes[position].values.count { break }
        choice[position] = 0
      }
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
      if let axis = axes.first(where: { $0.key == error.key }), error.kind == .unknownSetting {
        throw GridError(file: file, "axes.\(axis.key): not a setting of a run (agr train --dry-run prints them all)")
      }
      if settings[error.key] != nil, error.kind == .unknownSetting {
        throw GridError(file: file, "settings.\(error.key): not a setting of a run (agr train --dry-run prints them all)")
      }
      throw GridError(file: file, "\(error.key): \(error.message)")
    }
  }
}
