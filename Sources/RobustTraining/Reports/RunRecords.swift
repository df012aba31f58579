import Foundation

/// Everything a report shows about one run, read from its run directory. Tolerates interrupted
/// runs (fewer epochs than configured, a truncated last line) and runs without diagnostics.
public struct RunRecords: Sendable {
  public let directory: RunDirectory
  public let configuration: TrainingConfiguration
  /// One record per epoch, in epoch order (a later line for the same epoch wins, as after --resume).
  public let epochs: [EpochRecord]
  /// Gradient samples in iteration order.
  public let diagnostics: [GradientSample]
  public let parameters: ParameterIndex?
  /// `agr eval` reports found in the run directory, oldest first.
  public let evaluations: [EvaluationReport]

  public init(directory: RunDirectory, configuration: TrainingConfiguration, epochs: [EpochRecord],
              diagnostics: [GradientSample], parameters: ParameterIndex?, evaluations: [EvaluationReport])
  {
    var byEpoch = [Int: EpochRecord]()
    for r in epochs { byEpoch[r.epoch] = r }
    self.directory = directory
    self.configuration = configuration
    self.epochs = byEpoch.keys.sorted().map { byEpoch[$0]! }
    self.diagnostics = diagnostics.enumerated().sorted { ($0.element.iteration, $0.offset) < ($1.element.iteration, $1.offset) }
      .map(\.element)
    self.parameters = parameters
    self.evaluations = evaluations
  }

  /// Reads the run at `url`; throws `TrainingError.badRunDirectory` when it is not one.
  public static func load(_ url: URL) throws -> RunRecords {
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder), isFolder.boolValue else {
      throw TrainingError.badRunDirectory("\(url.path): no such directory")
    }
    let run = RunDirectory(url)
    let configuration = try run.readConfiguration()
    return RunRecords(directory: run, configuration: configuration, epochs: try run.readMetrics(),
                      diagnostics: run.readDiagnostics(), parameters: run.readParameterIndex(),
                      evaluations: EvaluationReport.all(in: url))
  }

  public var name: String { directory.url.standardizedFileURL.lastPathComponent }

  public var isComplete: Bool { (epochs.last?.epoch ?? 0) >= configuration.epochs }

  /// Whether AGR was configured to run at some point (on an adversarial method).
  public var usesAGR: Bool { configuration.agr && configuration.method.isAdversarial }

  /// "AT", "AT + AGR (from epoch 3)", ...
  public var methodDescription: String {
    let base = configuration.method.rawValue.uppercased()
    guard usesAGR else { return base }
    return configuration.agrStartEpoch > 1 ? "\(base) + AGR (from epoch \(configuration.agrStartEpoch))" : "\(base) + AGR"
  }

  public var totalSeconds: Double { epochs.reduce(0) { $0 + $1.seconds } }

  /// The iteration of the first gradient sample taken with AGR active.
  public var agrStartIteration: Int? { diagnostics.first { $0.agrActive }?.iteration }

  public var latestEvaluation: EvaluationReport? { evaluations.last }
}
