import Foundation

/// The report of an evaluation (`eval-<checkpoint>.json`): clean accuracy, accuracy under each attack
/// (AutoAttack with its cascade stages) and the per-sample worst case. `agr eval` writes it; run reports
/// and comparisons read it. Fields other than the checkpoint, the clean accuracy and the attacks' names
/// and accuracies are optional when read, so that reports written by hand or by older versions load.
public struct EvaluationReport: Codable, Equatable, Sendable {
  /// One stage of a cascade (AutoAttack): how many points it attacked and broke, and how long it took.
  public struct StageCount: Codable, Equatable, Sendable {
    public var name: String
    public var attacked: Int
    public var broken: Int
    public var seconds: Double
  }

  public struct AttackResult: Codable, Equatable, Sendable {
    public var name: String
    public var accuracy: Double
    public var count: Int?
    public var seconds: Double?
    public var epsilon: Double?
    public var steps: Int?
    public var stages: [StageCount]?
    /// What ran (absent in reports written before it was recorded).
    public var attack: AttackSpecification?

    /// Whether this is a `kind` attack: by its specification, or, for an older report without one, by the
    /// label it was written with.
    public func isKind(_ kind: AttackCatalog) -> Bool {
      if let attack { return attack.kind == kind }
      switch kind {
      case .pgd: return name.uppercased().hasPrefix("PGD")
      case .autoAttack, .autoAttackAPGD, .autoAttackPlus, .autoAttackRand: return name.lowercased().hasPrefix("autoattack")
      default: return name.lowercased() == kind.rawValue
      }
    }
  }

  public var checkpoint: String
  public var dataset: String?
  public var model: String?
  public var epsilon: Double?
  /// The threat model's norm ("linf", "l2", "l1"; absent in reports written before it was recorded: L-inf).
  public var norm: String?
  public var examples: Int?
  public var seed: UInt64?
  public var cleanAccuracy: Double
  public var cleanCount: Int?
  public var attacks: [AttackResult]
  public var worstCaseAccuracy: Double?
  public var seconds: Double?
  /// The JSON file and when it was written (set when read from disk).
  public var file: URL?
  public var written: Date?

  enum CodingKeys: String, CodingKey {
    case checkpoint, dataset, model, epsilon, norm, examples, seed, cleanAccuracy, cleanCount, attacks, worstCaseAccuracy,
      seconds, warnings
  }

  /// Reasons not to trust the numbers (`EvaluationCheck`), each with what it means; absent or empty: none found.
  public var warnings: [EvaluationWarning]?

  public init(checkpoint: String, dataset: String?, model: String?, epsilon: Double?, norm: String? = nil,
              examples: Int?, seed: UInt64?, cleanAccuracy: Double, cleanCount: Int?, attacks: [AttackResult],
              worstCaseAccuracy: Double?, seconds: Double?, warnings: [EvaluationWarning]? = nil)
  {
    self.checkpoint = checkpoint
    self.dataset = dataset
    self.model = model
    self.epsilon = epsilon
    self.norm = norm
    self.warnings = warnings
    self.examples = examples
    self.seed = seed
    self.cleanAccuracy = cleanAccuracy
    self.cleanCount = cleanCount
    self.attacks = attacks
    self.worstCaseAccuracy = worstCaseAccuracy
    self.seconds = seconds
  }

  /// The threat model's norm (L-inf for reports that do not record one).
  public var threatNorm: Norm { norm.flatMap { try? Norm(parsing: $0) } ?? .lInf }

  /// The AutoAttack accuracy, when this evaluation ran it.
  public var autoAttackAccuracy: Double? {
    attacks.first { attack in AttackCatalog.allCases.contains { $0.isAutoAttack && attack.isKind($0) } }?.accuracy
  }

  /// The accuracy under the first PGD attack, when this evaluation ran one.
  public var pgdAccuracy: Double? { accuracy(of: .pgd) }

  /// The accuracy under the first attack of `kind`, when this evaluation ran one.
  public func accuracy(of kind: AttackCatalog) -> Double? { attacks.first { $0.isKind(kind) }?.accuracy }

  /// The table `agr eval` prints: one row per attack (and cascade stage), and the worst case.
  public var table: String {
    func padded(_ text: String, _ width: Int) -> String {
      text.count >= width ? " " + text : String(repeating: " ", count: width - text.count) + text
    }
    func row(_ name: String, _ accuracy: String, _ count: String, _ time: String) -> String {
      name.padding(toLength: 34, withPad: " ", startingAt: 0) + padded(accuracy, 9) + padded(count, 8) + padded(time, 9)
    }
    let accuracy = { (v: Double) in String(format: "%.2f%%", v * 100) }
    var lines = [row("attack", "accuracy", "count", "time")]
    lines.append(row("clean", accuracy(cleanAccuracy), cleanCount.map(String.init) ?? "-", "-"))
    for a in attacks {
      lines.append(row(a.name, accuracy(a.accuracy), a.count.map(String.init) ?? "-", Markup.duration(a.seconds)))
      for s in a.stages ?? [] {
        lines.append("  " + s.name.padding(toLength: 32, withPad: " ", startingAt: 0)
          + "broke \(s.broken) of \(s.attacked) in \(Markup.duration(s.seconds))")
      }
    }
    if attacks.count > 1, let worst = worstCaseAccuracy {
      let count = examples.map { String(Int((worst * Double($0)).rounded())) } ?? "-"
      lines.append(row("worst case (per sample)", accuracy(worst), count, Markup.duration(seconds)))
    }
    for warning in warnings ?? [] { lines.append("warning: \(warning.text)") }
    return lines.joined(separator: "\n")
  }

  public func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    try encoder.encode(self).write(to: url, options: .atomic)
  }

  /// The report in `url`, with its file and modification date.
  public static func read(_ url: URL) throws -> EvaluationReport {
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    var report = try decoder.decode(Self.self, from: Data(contentsOf: url))
    report.file = url
    report.written = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
    return report
  }

  /// Every readable `eval-*.json` in `folder` (not the `.flags.json` resume files), oldest first.
  public static func all(in folder: URL) -> [EvaluationReport] {
    let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
    return files.filter { $0.lastPathComponent.hasPrefix("eval-") && $0.pathExtension == "json"
      && !$0.lastPathComponent.hasSuffix(".flags.json") }
      .compactMap { try? read($0) }
      .sorted { ($0.written ?? .distantPast, $0.file?.path ?? "") < ($1.written ?? .distantPast, $1.file?.path ?? "") }
  }
}
