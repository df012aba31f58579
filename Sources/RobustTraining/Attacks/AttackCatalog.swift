import Foundation
import Torch

/// The attacks by the names `agr eval --attacks` takes. PGD and CW take their step count in the name
/// (`pgd20`, `pgd100`, `cw30`); a bare `pgd` or `cw` uses `defaultSteps`.
public enum AttackCatalog: String, CaseIterable, Codable, Sendable {
  case fgsm
  case pgd
  case cw
  case apgdCE = "apgd-ce"
  case apgdDLR = "apgd-dlr"
  case apgdT = "apgd-t"
  case fabT = "fab-t"
  case square
  case autoAttack = "aa"
  case autoAttackAPGD = "aa-apgd"
  case autoAttackPlus = "aa-plus"
  case autoAttackRand = "aa-rand"

  /// What the attack is, for help texts.
  public var summary: String {
    switch self {
    case .fgsm: return "one steepest-ascent step of eps"
    case .pgd: return "PGD-N on cross-entropy, e.g. pgd20"
    case .cw: return "PGD-N on the CW margin, e.g. cw30, L-inf"
    case .apgdCE: return "APGD on cross-entropy"
    case .apgdDLR: return "APGD on the DLR loss"
    case .apgdT: return "APGD on the targeted DLR loss, 9 targets"
    case .fabT: return "targeted FAB, 9 targets"
    case .square: return "score-based, 5,000 queries"
    case .autoAttack:
      return "AutoAttack's standard version: APGD-CE, APGD-T, FAB-T, Square (L1: APGD-CE x5, APGD-T 5 targets, larger eps)"
    case .autoAttackAPGD: return "APGD-CE + APGD-T"
    case .autoAttackPlus: return "AutoAttack's plus version: 5 restarts, APGD-DLR, Square, APGD-T, FAB-T"
    case .autoAttackRand: return "AutoAttack's rand version: APGD-CE, APGD-DLR with EOT over 20 passes"
    }
  }

  /// Whether a cascade of AutoAttack's (reports count it as the AutoAttack number).
  public var isAutoAttack: Bool { [.autoAttack, .autoAttackAPGD, .autoAttackPlus, .autoAttackRand].contains(self) }

  /// Whether the attack needs target classes beyond the true one and the best other (targeted attacks).
  public var isTargeted: Bool { [.apgdT, .fabT, .autoAttack, .autoAttackAPGD, .autoAttackPlus].contains(self) }

  /// Target classes of the targeted attacks (APGD-T, FAB-T and AutoAttack's, as the official code sets them).
  public static let targetClasses = 9

  /// The fewest classes the attack is defined for: the targeted DLR loss needs 4 (APGD-T and the AutoAttack
  /// versions that run it), the DLR loss 3, a target other than the true class 2.
  public var minimumClasses: Int {
    switch self {
    case .apgdT, .autoAttack, .autoAttackAPGD, .autoAttackPlus: return 4
    case .apgdDLR, .autoAttackRand: return 3
    case .fabT: return 2
    default: return 1
    }
  }

  /// The norms the attack is implemented for.
  public var norms: [Norm] {
    switch self {
    case .cw: return [.lInf]
    default: return Norm.allCases
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
  static let aliases: [String: AttackCatalog] = [
    "autoattack": .autoAttack, "autoattack-apgd": .autoAttackAPGD, "autoattack-plus": .autoAttackPlus,
    "autoattack-rand": .autoAttackRand,
  ]

  /// What `name` runs at radius `epsilon` in `norm`. PGD and CW use step eps/4 (2/255 at 8/255), as in the AT
  /// papers' evaluations.
  public static func specification(_ name: String, epsilon: Double, norm: Norm = .lInf) throws -> AttackSpecification {
    let (entry, steps) = try parse(name)
    guard entry.norms.contains(norm) else {
      throw AttackError.invalidParameter(
        "'\(name)' is implemented for \(entry.norms.map(\.flagName).joined(separator: " and ")), not \(norm.flagName)")
    }
    return AttackSpecification(kind: entry, norm: norm, epsilon: epsilon, steps: steps,
                               stepSize: steps == nil ? nil : epsilon / 4)
  }

  /// The attack called `name` at radius `epsilon` in `norm` (`specification` says what it is).
  public static func make(_ name: String, epsilon: Double, norm: Norm = .lInf, seed: UInt64 = 0) throws -> any Attack {
    let specification = try specification(name, epsilon: epsilon, norm: norm)
    let (entry, steps, step) = (specification.kind, specification.steps, specification.stepSize ?? epsilon / 4)
    let threat = try ThreatModel(norm: norm, epsilon: epsilon)
    switch entry {
    case .fgsm: return FGSM(threatModel: threat)
    case .pgd: return try PGD.evaluation(epsilon: epsilon, norm: norm, steps: steps!, stepSize: step, seed: seed)
    case .cw: return try CWInf(epsilon: epsilon, steps: steps!, stepSize: step, seed: seed)
    case .apgdCE: return try APGD(threatModel: threat, loss: .crossEntropy, seed: seed)
    case .apgdDLR: return try APGD(threatModel: threat, loss: .dlr, seed: seed)
    case .apgdT: return try APGDTargeted(threatModel: threat, seed: seed)
    case .fabT: return try FABTargeted(threatModel: threat, seed: seed)
    case .square: return try Square(threatModel: threat, seed: seed)
    case .autoAttack: return try AutoAttack.standard(threatModel: threat, seed: seed)
    case .autoAttackAPGD: return try AutoAttack.apgdPair(threatModel: threat, seed: seed)
    case .autoAttackPlus: return try AutoAttack.plus(threatModel: threat, seed: seed)
    case .autoAttackRand: return try AutoAttack.rand(threatModel: threat, seed: seed)
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
