import Foundation

/// The per-sample results of an evaluation so far (clean and per-attack robustness flags, times and
/// cascade stage counts), saved after each chunk of a long run (AutoAttack) so that it can resume; a
/// resume is accepted only with the same settings. `report` turns it into the `EvaluationReport`.
public struct EvaluationState: Codable {
  /// What must match for a saved state to be resumed.
  public struct Settings: Codable, Equatable, Sendable {
    public var checkpoint: String
    public var dataset: String
    public var attacks: [String]
    public var epsilon: Double
    /// The threat model's norm, absent for L-inf (so states saved before norms were recorded still resume).
    public var norm: String?
    public var examples: Int
    public var seed: UInt64

    public init(checkpoint: String, dataset: String, attacks: [String], epsilon: Double, norm: Norm = .lInf,
                examples: Int, seed: UInt64)
    {
      self.checkpoint = checkpoint
      self.dataset = dataset
      self.attacks = attacks
      self.epsilon = epsilon
      self.norm = norm == .lInf ? nil : norm.flagName
      self.examples = examples
      self.seed = seed
    }
  }

  public var settings: Settings
  public var clean: [Bool] = []
  public var robust: [[Bool]]
  public var seconds: [Double]
  public var stages: [[EvaluationReport.StageCount]]
  /// How many samples were already done when this state was loaded to resume (0 for a fresh one).
  public var resumedFrom = 0

  public init(settings: Settings) {
    self.settings = settings
    robust = settings.attacks.map { _ in [] }
    seconds = settings.attacks.map { _ in 0 }
    stages = settings.attacks.map { _ in [] }
  }

  /// The attacks' names, in the order of `robust`.
  public var attacks: [String] { settings.attacks }

  /// Samples evaluated so far.
  public var done: Int { clean.count }

  /// Samples robust to attack `index` so far (and correctly classified).
  public func robustCount(_ index: Int) -> Int { robust[index].filter { $0 }.count }
  public var cleanCount: Int { clean.filter { $0 }.count }

  /// Adds the results of the next chunk of samples.
  public mutating func append(_ report: RobustnessReport) {
    clean += report.cleanCorrect
    for (i, outcome) in report.attacks.enumerated() {
      robust[i] += outcome.robust
      seconds[i] += outcome.seconds
      for stage in outcome.stages {
        if let k = stages[i].firstIndex(where: { $0.name == stage.name }) {
          stages[i][k].attacked += stage.attacked
          stages[i][k].broken += stage.broken
          stages[i][k].seconds += stage.seconds
        } else {
          stages[i].append(EvaluationReport.StageCount(name: stage.name, attacked: stage.attacked, broken: stage.broken,
                                                       seconds: stage.seconds))
        }
      }
    }
  }

  public func save(_ url: URL) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try encoder.encode(self).write(to: url, options: .atomic)
  }

  /// The state saved at `url`, which must have been saved with `settings`.
  public static func load(_ url: URL, expecting settings: Settings) throws -> EvaluationState {
    guard let data = try? Data(contentsOf: url) else {
      throw EvaluationStateError("\(url.path): no saved evaluation state (save one with the first run)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    var state: EvaluationState
    do { state = try decoder.decode(EvaluationState.self, from: data) } catch {
      throw EvaluationStateError("\(url.path): cannot read the saved evaluation state: "
        + ((error as? DecodingError).map(RunDirectory.decodingText) ?? describe(error)))
    }
    guard state.settings == settings else {
      throw EvaluationStateError("\(url.path) was saved with other settings (\(state.settings)); start the evaluation anew")
    }
    state.resumedFrom = state.done
    return state
  }

  /// The report of the samples done so far; `specifications` say what each attack is (in `attacks`' order).
  public func report(architecture: String, seconds total: Double, specifications: [AttackSpecification?]) -> EvaluationReport {
    let n = Double(max(done, 1))
    let worst = robust.reduce(clean) { acc, flags in zip(acc, flags).map { $0 && $1 } }
    return EvaluationReport(
      checkpoint: settings.checkpoint, dataset: settings.dataset, model: architecture, epsilon: settings.epsilon,
      norm: settings.norm ?? Norm.lInf.flagName, examples: done, seed: settings.seed, cleanAccuracy: Double(cleanCount) / n, cleanCount: cleanCount,
      attacks: attacks.indices.map { i in
        EvaluationReport.AttackResult(
          name: attacks[i], accuracy: Double(robustCount(i)) / n, count: robustCount(i), seconds: seconds[i],
          epsilon: settings.epsilon, steps: specifications[i]?.steps, stages: stages[i].isEmpty ? nil : stages[i],
          attack: specifications[i])
      },
      worstCaseAccuracy: Double(worst.filter { $0 }.count) / n, seconds: total)
  }
}

public struct EvaluationStateError: Error, CustomStringConvertible {
  public let description: String
  init(_ description: String) { self.description = description }
}
