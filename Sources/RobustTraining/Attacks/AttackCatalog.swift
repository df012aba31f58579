import Foundation
import Torch

/// The attacks by the names `agr eval --attacks` takes. PGD and CW take their step count in the name
/// (`pgd20`, `pgd100`, `cw30`); a bare `pgd` or `cw` uses `defaultSteps`.
public enum AttackCatalog: String, CaseIterable, Codable, Sendable {
  case fgsm
  case pgd
  case cw
  case apgdCE = "apgd-ce"
  case apgdT = "apgd-t"
  case fabT = "fab-t"
  case square
  case autoAttack = "aa"
  case autoAttackAPGD = "aa-apgd"

  /// What the attack is, for help texts.
  public var summary: String {
    switch self {
    case .fgsm: return "one signed gradient step"
    case .pgd: return "PGD-N on cross-entropy, e.g. pgd20"
    case .cw: return "PGD-N on the CW margin, e.g. cw30"
    case .apgdCE: return "APGD on cross-entropy"
    case .apgdT: return "APGD on the targeted DLR loss, 9 targets"
    case .fabT: return "targeted FAB, 9 targets"
    case .square: return "score-based, 5,000 queries"
    case .autoAttack: return "AutoAttack's standard version: APGD-CE, APGD-T, FAB-T, Square as a cascade"
    case .autoAttackAPGD: return "APGD-CE + APGD-T"
    }
  }

  /// Steps of a bare `pgd` / `cw`.
  public var defaultSteps: Int? {
    switch self {
    case .pgd: return 20
    case .cw: return 30
    default: return nil
    }
  }

  /// Names `make` takes besides the raw values.
  static let aliases: [String: AttackCatalog] = ["autoattack": .autoAttack, "autoattack-apgd": .autoAttackAPGD]

  /// What `name` runs at L-inf radius `epsilon`. PGD and CW use step 2/255 scaled to eps (eps/4), as in the
  /// AT papers' evaluations.
  public static func specification(_ name: String, epsilon: Double) throws -> AttackSpecification {
    let (entry, steps) = try parse(name)
    return AttackSpecification(kind: entry, norm: .lInf, epsilon: epsilon, steps: steps,
                               stepSize: steps == nil ? nil : epsilon / 4)
  }

  /// The attack called `name` at L-inf radius `epsilon` (`specification(_:epsilon:)` says what it is).
  public static func make(_ name: String, epsilon: Double, seed: UInt64 = 0) throws -> any Attack {
    let specification = try specification(name, epsilon: epsilon)
    let (entry, steps, step) = (specification.kind, specification.steps, specification.stepSize ?? epsilon / 4)
    let threat = try ThreatModel.lInf(epsilon)
    switch entry {
    case .fgsm: return FGSM(threatModel: threat)
    case .pgd: return try PGD.evaluation(epsilon: epsilon, steps: steps!, stepSize: step, seed: seed)
    case .cw: return try CWInf(epsilon: epsilon, steps: steps!, stepSize: step, seed: seed)
    case .apgdCE: return try APGD(threatModel: threat, loss: .crossEntropy, seed: seed)
    case .apgdT: return try APGDTargeted(threatModel: threat, seed: seed)
    case .fabT: return try FABTargeted(threatModel: threat, seed: seed)
    case .square: return try Square(threatModel: threat, seed: seed)
    case .autoAttack: return try AutoAttack.standard(epsilon: epsilon, seed: seed)
    case .autoAttackAPGD: return try AutoAttack.apgdPair(threatModel: threat, seed: seed)
    }
  }

  /// The entry a name means and, for PGD and CW, its step count.
  static func parse(_ name: String) throws -> (AttackCatalog, steps: Int?) {
    let key = name.lowercased()
    if let entry = AttackCatalog(rawValue: key) ?? aliases[key] { return (entry, entry.defaultSteps) }
    for entry in [AttackCatalog.pgd, .cw] where key.hasPrefix(entry.rawValue) {
      if let steps = Int(key.dropFirst(entry.rawValue.count)), steps > 0 { return (entry, steps) }
    }
    throw AttackError.invalidParameter(
      "unknown attack '\(name)' (known: \(allCases.map(\.rawValue).joined(separator: ", ")), or pgdN / cwN)")
  }
}
