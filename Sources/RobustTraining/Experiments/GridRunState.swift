import Foundation

/// Where one grid run stands on disk, so that a grid started again skips what is done and resumes the rest.
public enum GridRunState: Equatable, Sendable {
  /// No run directory (or one without config.json: nothing was trained).
  case new
  /// Trained for `epochs` of `of` epochs (0: stopped in its first epoch); `agr train --resume` continues it.
  case partial(epochs: Int, of: Int)
  /// Every epoch trained; the evaluations named are still missing.
  case trained(missing: [String])
  /// Trained and evaluated.
  case done

  public var isDone: Bool { self == .done }
}

/// The files a grid keeps in and beside each run directory.
public struct GridLayout: Sendable {
  /// The folder holding the grid's run directories (`runs/<grid name>` by default).
  public let folder: URL
  public let evaluation: GridEvaluation

  public init(folder: URL, evaluation: GridEvaluation) {
    self.folder = folder
    self.evaluation = evaluation
  }

  public func run(_ run: GridRun) -> RunDirectory { RunDirectory(folder.appendingPathComponent(run.name)) }
  /// The configuration `agr train --config` starts a run from.
  public func configurationFile(_ run: GridRun) -> URL { folder.appendingPathComponent("configs/\(run.name).json") }
  /// Writes the run's configuration to `configurationFile(run)` (atomically, as every run file) and returns its URL.
  public func writeConfiguration(_ run: GridRun) throws -> URL {
    let file = configurationFile(run)
    try AtomicFile.write(try RunDirectory.configurationJSON(run.configuration), to: file)
    return file
  }
  /// Standard output and error of the run's `agr train` and `agr eval` processes.
  public func log(_ run: GridRun, _ step: String) -> URL { folder.appendingPathComponent("logs/\(run.name).\(step).log") }
  /// Where the process of `step` reports to the grid (`GridChildStatus`), beside its log.
  public func status(_ run: GridRun, _ step: String) -> URL {
    folder.appendingPathComponent("logs/\(run.name).\(step).status.json")
  }

  /// (attack name for `agr eval`, test images or nil for all, report file) for each evaluation of the best checkpoint.
  public func evaluations(_ run: GridRun) -> [(attack: String, examples: Int?, report: URL)] {
    let directory = self.run(run).url
    var list: [(String, Int?, URL)] = [(evaluation.pgdAttack, evaluation.pgdExamples,
                                        directory.appendingPathComponent("eval-grid-\(evaluation.pgdAttack).json"))]
    if let attack = evaluation.autoAttack {
      list.append((attack, evaluation.autoAttackExamples, directory.appendingPathComponent("eval-grid-\(attack).json")))
    }
    return list
  }

  /// The run's state; throws when its directory holds a run of other settings (a changed grid file),
  /// which the grid must neither overwrite nor count.
  public func state(of run: GridRun) throws -> GridRunState {
    let directory = self.run(run)
    guard directory.isRun else { return .new }
    var existing = try directory.readConfiguration()
    existing.device = run.configuration.device
    guard existing == run.configuration else {
      let differing = Self.differingKeys(existing, run.configuration)
      throw GridError(file: directory.config.path, "holds a run with other settings than the grid's run \(run.name) "
        + "(\(differing.joined(separator: ", "))); move it away or change the grid back")
    }
    let epochs = try directory.readMetrics().map(\.epoch).max() ?? 0
    guard epochs >= run.configuration.epochs, FileManager.default.fileExists(atPath: directory.bestModel.path) else {
      return .partial(epochs: epochs, of: run.configuration.epochs)
    }
    let missing = evaluations(run).filter { !Self.holdsReport($0.report, examples: $0.examples) }.map(\.attack)
    return missing.isEmpty ? .done : .trained(missing: missing)
  }

  static func holdsReport(_ url: URL, examples: Int?) -> Bool {
    guard let report = try? EvaluationReport.read(url) else { return false }
    return examples == nil || report.examples == examples
  }

  static func differingKeys(_ a: TrainingConfiguration, _ b: TrainingConfiguration) -> [String] {
    let left = (try? JSONValue.of(a).flattened(prefix: "")) ?? []
    let right = Dictionary((try? JSONValue.of(b).flattened(prefix: "")) ?? [], uniquingKeysWith: { x, _ in x })
    let keys = left.filter { right[$0.key] != $0.value }.map(\.key)
    return keys.isEmpty ? ["settings differ"] : keys
  }
}
