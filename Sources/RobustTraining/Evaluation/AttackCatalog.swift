import Foundation
import Torch

/// Attacks by the names `agr eval --attacks` takes: fgsm, pgdN (pgd20, pgd100), cw / cwN,
/// apgd-ce, apgd-t, fab-t, square, aa (AutoAttack standard), aa-apgd (APGD-CE + APGD-T).
public enum AttackCatalog {
  public static let names = ["fgsm", "pgd20", "pgd100", "cw", "apgd-ce", "apgd-t", "fab-t", "square", "aa", "aa-apgd"]

  /// The attack called `name` at L-inf radius `epsilon`. PGD and CW use step 2/255 scaled to
  /// eps (eps/4) as in the AT papers' evaluations.
  public static func make(_ name: String, epsilon: Double, seed: UInt64 = 0) throws -> any Attack {
    let threat = try ThreatModel.lInf(epsilon)
    let key = name.lowercased()
    let step = epsilon / 4
    if key == "fgsm" { return FGSM(threatModel: threat) }
    if key.hasPrefix("pgd"), let steps = Int(key.dropFirst(3)), steps > 0 {
      return try PGD(threatModel: threat, steps: steps, stepSize: step, restarts: 1, randomStart: true,
                     loss: .crossEntropy, seed: seed, name: "PGD-\(steps)")
    }
    if key == "cw" { return try CWInf(epsilon: epsilon, steps: 30, stepSize: step, seed: seed) }
    if key.hasPrefix("cw"), let steps = Int(key.dropFirst(2)), steps > 0 {
      return try CWInf(epsilon: epsilon, steps: steps, stepSize: step, seed: seed)
    }
    switch key {
    case "apgd-ce": return try APGD(threatModel: threat, loss: .crossEntropy, seed: seed)
    case "apgd-t": return try APGDTargeted(threatModel: threat, seed: seed)
    case "fab-t": return try FABTargeted(threatModel: threat, seed: seed)
    case "square": return try Square(threatModel: threat, seed: seed)
    case "aa", "autoattack": return try AutoAttack.standard(epsilon: epsilon, seed: seed)
    case "aa-apgd", "autoattack-apgd": return try AutoAttack.apgdPair(threatModel: threat, seed: seed)
    default:
      throw AttackError.invalidParameter("unknown attack '\(name)' (known: \(names.joined(separator: ", ")), or pgdN / cwN)")
    }
  }
}
