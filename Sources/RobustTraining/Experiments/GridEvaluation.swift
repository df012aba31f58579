import Foundation

/// How a grid evaluates each finished run's best checkpoint: PGD on the test set (all of it by default)
/// and AutoAttack (or another attack of `agr eval`) on its first images.
public struct GridEvaluation: Equatable, Sendable {
  public var pgdSteps = 20
  /// Test images for PGD (nil: the whole test set).
  public var pgdExamples: Int? = nil
  /// The second attack's name in `agr eval --attacks` (nil: none).
  public var autoAttack: String? = "aa"
  public var autoAttackExamples = 1000
  public var batchSize = 256

  static let keys = ["pgd_steps", "pgd_examples", "autoattack", "autoattack_examples", "batch_size"]

  public init() {}

  init(_ json: JSONValue?, file: String) throws {
    guard let json else { return }
    guard case .object(let object) = json else { throw GridError(file: file, "evaluation: expected an object") }
    for key in object.keys.sorted() where !Self.keys.contains(key) {
      throw GridError(file: file, "evaluation.\(key): no such setting (known: \(Self.keys.joined(separator: ", ")))")
    }
    func count(_ key: String, minimum: Int) throws -> Int? {
      guard let value = object[key] else { return nil }
      guard case .integer(let n) = value, n >= minimum else {
        throw GridError(file: file, "evaluation.\(key): expected a whole number >= \(minimum), got \(value.text)")
      }
      return n
    }
    pgdSteps = try count("pgd_steps", minimum: 1) ?? pgdSteps
    pgdExamples = try count("pgd_examples", minimum: 1)
    autoAttackExamples = try count("autoattack_examples", minimum: 1) ?? autoAttackExamples
    batchSize = try count("batch_size", minimum: 1) ?? batchSize
    if let value = object["autoattack"] {
      guard case .string(let name) = value else { throw GridError(file: file, "evaluation.autoattack: expected an attack name or \"none\"") }
      if name.lowercased() == "none" {
        autoAttack = nil
      } else {
        do { _ = try AttackCatalog.parse(name) } catch { throw GridError(file: file, "evaluation.autoattack: \(error)") }
        autoAttack = name.lowercased()
      }
    }
  }

  /// The attack name of the PGD evaluation ("pgd20").
  public var pgdAttack: String { "pgd\(pgdSteps)" }
}
