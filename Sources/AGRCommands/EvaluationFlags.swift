import Foundation
import RobustTraining

/// Per-sample results of an `agr eval` run so far, saved after each chunk so that a long run
/// (AutoAttack) can resume; the settings must match for a resume to be accepted.
struct EvaluationFlags: Codable {
  struct Settings: Codable, Equatable {
    var checkpoint: String
    var dataset: String
    var attacks: [String]
    var epsilon: Double
    var examples: Int
    var seed: UInt64
  }

  var settings: Settings
  var attacks: [String]
  var clean: [Bool] = []
  var robust: [[Bool]]
  var seconds: [Double]
  var stages: [[StageCount]]
  var resumedFrom = 0

  struct StageCount: Codable {
    var name: String
    var attacked: Int
    var broken: Int
    var seconds: Double
  }

  init(settings: Settings, attacks: [String]) {
    self.settings = settings
    self.attacks = attacks
    robust = attacks.map { _ in [] }
    seconds = attacks.map { _ in 0 }
    stages = attacks.map { _ in [] }
  }

  var done: Int { clean.count }

  mutating func append(_ report: RobustnessReport) {
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
          stages[i].append(StageCount(name: stage.name, attacked: stage.attacked, broken: stage.broken,
                                      seconds: stage.seconds))
        }
      }
    }
  }

  func save(_ url: URL) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    try encoder.encode(self).write(to: url, options: .atomic)
  }

  static func load(_ url: URL, expecting settings: Settings) throws -> EvaluationFlags {
    guard let data = try? Data(contentsOf: url) else {
      throw CommandError("--resume: no saved flags at \(url.path) (run with --save-flags first)")
    }
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    var flags: EvaluationFlags
    do { flags = try decoder.decode(EvaluationFlags.self, from: data) } catch {
      throw CommandError("\(url.path): cannot read the saved flags: \(error)")
    }
    guard flags.settings == settings else {
      throw CommandError("\(url.path) was saved with other settings (\(flags.settings)); rerun without --resume")
    }
    flags.resumedFrom = flags.done
    return flags
  }

  func report(architecture: String, seconds total: Double) -> EvaluationReport {
    let n = Double(max(done, 1))
    let worst = robust.reduce(clean) { acc, flags in zip(acc, flags).map { $0 && $1 } }
    return EvaluationReport(
      checkpoint: settings.checkpoint, dataset: settings.dataset, model: architecture, epsilon: settings.epsilon,
      examples: done, seed: settings.seed, cleanAccuracy: Double(clean.filter { $0 }.count) / n,
      cleanCount: clean.filter { $0 }.count,
      attacks: attacks.indices.map { i in
        EvaluationReport.AttackResult(
          name: attacks[i], accuracy: Double(robust[i].filter { $0 }.count) / n, count: robust[i].filter { $0 }.count,
          seconds: seconds[i], epsilon: settings.epsilon, steps: Self.steps(of: attacks[i]),
          stages: stages[i].isEmpty ? nil : stages[i])
      },
      worstCaseAccuracy: Double(worst.filter { $0 }.count) / n, seconds: total)
  }

  /// The iteration count in an attack's name ("PGD-20" -> 20), when it has one.
  static func steps(of name: String) -> Int? {
    name.split(separator: "-").last.flatMap { Int($0) }
  }
}

/// The JSON `agr eval` writes, and the table it prints.
struct EvaluationReport: Codable {
  struct AttackResult: Codable {
    var name: String
    var accuracy: Double
    var count: Int
    var seconds: Double
    var epsilon: Double
    var steps: Int?
    var stages: [EvaluationFlags.StageCount]?
  }

  var checkpoint: String
  var dataset: String
  var model: String
  var epsilon: Double
  var examples: Int
  var seed: UInt64
  var cleanAccuracy: Double
  var cleanCount: Int
  var attacks: [AttackResult]
  var worstCaseAccuracy: Double
  var seconds: Double

  var table: String {
    func row(_ name: String, _ accuracy: String, _ count: String, _ time: String) -> String {
      name.padding(toLength: 34, withPad: " ", startingAt: 0) + leftPadded(accuracy, 9) + leftPadded(count, 8)
        + leftPadded(time, 9)
    }
    var lines = [row("attack", "accuracy", "count", "time")]
    lines.append(row("clean", String(format: "%.2f%%", cleanAccuracy * 100), String(cleanCount), "-"))
    for a in attacks {
      lines.append(row(a.name, String(format: "%.2f%%", a.accuracy * 100), String(a.count), formatDuration(a.seconds)))
      for s in a.stages ?? [] {
        lines.append("  " + s.name.padding(toLength: 32, withPad: " ", startingAt: 0)
          + "broke \(s.broken) of \(s.attacked) in \(formatDuration(s.seconds))")
      }
    }
    if attacks.count > 1 {
      lines.append(row("worst case (per sample)", String(format: "%.2f%%", worstCaseAccuracy * 100),
                       String(Int((worstCaseAccuracy * Double(examples)).rounded())), formatDuration(seconds)))
    }
    return lines.joined(separator: "\n")
  }

  func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: url, options: .atomic)
  }
}
