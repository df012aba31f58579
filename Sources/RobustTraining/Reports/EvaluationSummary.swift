import Foundation

/// The parts of an `agr eval` report (`eval-<checkpoint>.json`) that reports show. Decoded
/// leniently: fields the report does not need may change without breaking it.
public struct EvaluationSummary: Decodable, Equatable, Sendable {
  public struct AttackResult: Decodable, Equatable, Sendable {
    public var name: String
    public var accuracy: Double
    public var seconds: Double?
  }

  public var checkpoint: String
  public var epsilon: Double?
  public var examples: Int?
  public var cleanAccuracy: Double
  public var attacks: [AttackResult]
  public var worstCaseAccuracy: Double?
  public var seconds: Double?
  /// The JSON file and when it was written (set when read from disk).
  public var file: URL?
  public var written: Date?

  enum CodingKeys: String, CodingKey {
    case checkpoint, epsilon, examples, cleanAccuracy, attacks, worstCaseAccuracy, seconds
  }

  /// The AutoAttack accuracy, when this evaluation ran it.
  public var autoAttackAccuracy: Double? {
    attacks.first { $0.name.lowercased().hasPrefix("autoattack") }?.accuracy
  }

  /// The accuracy under the first PGD attack, when this evaluation ran one.
  public var pgdAccuracy: Double? { attacks.first { $0.name.uppercased().hasPrefix("PGD") }?.accuracy }

  /// Every readable `eval-*.json` in `folder` (not the `.flags.json` resume files), oldest first.
  public static func all(in folder: URL) -> [EvaluationSummary] {
    let files = (try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    return files.filter { $0.lastPathComponent.hasPrefix("eval-") && $0.pathExtension == "json"
      && !$0.lastPathComponent.hasSuffix(".flags.json") }
      .compactMap { url -> EvaluationSummary? in
        guard let data = try? Data(contentsOf: url), var summary = try? decoder.decode(Self.self, from: data) else {
          return nil
        }
        summary.file = url
        summary.written = (try? url.resourceValues(forKeys: [.contentModificationDateKey]))?.contentModificationDate
        return summary
      }
      .sorted { ($0.written ?? .distantPast, $0.file?.path ?? "") < ($1.written ?? .distantPast, $1.file?.path ?? "") }
  }
}
