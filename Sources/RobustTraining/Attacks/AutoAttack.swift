import Foundation
import Torch

/// An attack built from other attacks run in sequence, reporting what each stage did.
public protocol CascadeAttack: Attack {
  func run(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> CascadeResult
}

/// What one stage of a cascade did on one batch (or, summed, on a whole evaluation).
public struct CascadeStage: Sendable, Equatable {
  public let name: String
  /// Samples this stage attacked: those still robust after the previous stages.
  public var attacked: Int
  /// Samples this stage broke.
  public var broken: Int
  public var seconds: Double
}

public struct CascadeResult {
  /// The per-sample worst case: the first stage's example that broke it, else the clean image.
  public let adversarial: Tensor
  /// Bool (N): still correctly classified after every stage.
  public let robust: Tensor
  public let stages: [CascadeStage]
}

/// AutoAttack (Croce & Hein, 2020): a parameter-free ensemble run as a cascade. Each stage attacks
/// only the points still robust (correctly classified by the model on clean inputs and not
/// broken by an earlier stage), and a point counts as broken as soon as one stage breaks it, so
/// the robust accuracy is the per-sample worst case over the stages.
public struct AutoAttack: CascadeAttack {
  public let name: String
  public let threatModel: ThreatModel
  public let stages: [any Attack]
  /// Called after each stage on each batch (progress for long evaluations: a stage can take minutes).
  public var stageFinished: (@Sendable (CascadeStage) -> Void)?

  /// Throws when `stages` is empty or a stage uses another threat model.
  public init(name: String, threatModel: ThreatModel, stages: [any Attack]) throws {
    guard !stages.isEmpty else { throw AttackError.invalidParameter("AutoAttack '\(name)' needs at least one stage") }
    for stage in stages where stage.threatModel != threatModel {
      throw AttackError.invalidParameter("stage \(stage.name) uses \(stage.threatModel), the cascade \(threatModel)")
    }
    self.name = name
    self.threatModel = threatModel
    self.stages = stages
  }

  /// The standard version as the official code composes it. L-inf and L2: APGD-CE, APGD-T (9 targets), FAB-T
  /// (9 targets), Square (5,000 queries, p_init 0.8), one restart each. L1: APGD-CE with 5 restarts and APGD-T
  /// (5 targets), both on the larger-epsilon schedule (`APGDRun.largerEpsilons`), then FAB-T (9 targets) and
  /// Square, as the official code (pyautoattack 0.2.0) sets its L1 version up. The budgets can be lowered for
  /// quick checks.
  public static func standard(threatModel: ThreatModel, seed: UInt64 = 0, iterations: Int = 100,
                              squareQueries: Int = 5000) throws -> AutoAttack
  {
    let threat = threatModel
    if threat.norm == .l1 {
      return try AutoAttack(name: "AutoAttack L1", threatModel: threat, stages: [
        try APGD(threatModel: threat, loss: .crossEntropy, iterations: iterations, restarts: 5, largerEpsilons: true,
                 seed: seed),
        try APGDTargeted(threatModel: threat, iterations: iterations, targetClasses: 5, restarts: 1,
                         largerEpsilons: true, seed: seed),
        try FABTargeted(threatModel: threat, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
        try Square(threatModel: threat, queries: squareQueries, initialFraction: 0.8, restarts: 1, seed: seed),
      ])
    }
    return try AutoAttack(name: threat.norm == .lInf ? "AutoAttack" : "AutoAttack \(threat.norm)", threatModel: threat,
                          stages: [
      try APGD(threatModel: threat, loss: .crossEntropy, iterations: iterations, restarts: 1, seed: seed),
      try APGDTargeted(threatModel: threat, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
      try FABTargeted(threatModel: threat, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
      try Square(threatModel: threat, queries: squareQueries, initialFraction: 0.8, restarts: 1, seed: seed),
    ])
  }

  /// The L-inf standard version at radius `epsilon`.
  public static func standard(epsilon: Double, seed: UInt64 = 0, iterations: Int = 100, squareQueries: Int = 5000)
    throws -> AutoAttack
  {
    try standard(threatModel: try .lInf(epsilon), seed: seed, iterations: iterations, squareQueries: squareQueries)
  }

  /// The plus version as the official code composes it: APGD-CE and APGD-DLR with 5 restarts each, untargeted
  /// FAB with 5 restarts, Square (5,000 queries), APGD-T and FAB-T (9 targets, 1 restart each). The official code
  /// defines it for L-inf and L2 and runs it in L1 with a warning ("please check"); so does this one.
  public static func plus(threatModel: ThreatModel, seed: UInt64 = 0, iterations: Int = 100, squareQueries: Int = 5000)
    throws -> AutoAttack
  {
    let threat = threatModel
    return try AutoAttack(name: "AutoAttack+" + (threat.norm == .lInf ? "" : " \(threat.norm)"), threatModel: threat,
                          stages: [
      try APGD(threatModel: threat, loss: .crossEntropy, iterations: iterations, restarts: 5, seed: seed),
      try APGD(threatModel: threat, loss: .dlr, iterations: iterations, restarts: 5, seed: seed),
      try FABUntargeted(threatModel: threat, iterations: iterations, restarts: 5, seed: seed),
      try Square(threatModel: threat, queries: squareQueries, initialFraction: 0.8, restarts: 1, seed: seed),
      try APGDTargeted(threatModel: threat, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
      try FABTargeted(threatModel: threat, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
    ])
  }

  /// The rand version for randomised models, as the official code composes it: APGD-CE and APGD-DLR, one
  /// restart each, every step's gradient averaged over `eotIterations` (20) forward passes.
  public static func rand(threatModel: ThreatModel, seed: UInt64 = 0, iterations: Int = 100, eotIterations: Int = 20)
    throws -> AutoAttack
  {
    let threat = threatModel
    return try AutoAttack(name: "AutoAttack-rand" + (threat.norm == .lInf ? "" : " \(threat.norm)"), threatModel: threat,
                          stages: [
      try APGD(threatModel: threat, loss: .crossEntropy, iterations: iterations, restarts: 1,
               eotIterations: eotIterations, seed: seed),
      try APGD(threatModel: threat, loss: .dlr, iterations: iterations, restarts: 1, eotIterations: eotIterations,
               seed: seed),
    ])
  }

  /// The cheaper version: APGD-CE then APGD-T (9 targets), in any norm.
  public static func apgdPair(threatModel: ThreatModel, seed: UInt64 = 0, iterations: Int = 100) throws -> AutoAttack {
    try AutoAttack(name: "AutoAttack (APGD-CE + APGD-T)", threatModel: threatModel, stages: [
      try APGD(threatModel: threatModel, loss: .crossEntropy, iterations: iterations, restarts: 1, seed: seed),
      try APGDTargeted(threatModel: threatModel, iterations: iterations, targetClasses: 9, restarts: 1, seed: seed),
    ])
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try run(model, images: images, labels: labels).adversarial
  }

  public func run(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> CascadeResult {
    var report: [CascadeStage] = []
    var robustFlags: Tensor?
    let adversarial = try AttackSupport.run(self, model, images: images, labels: labels) {
      let adversarial = try images.clone()
      let robust = try AttackSupport.misclassified(model, images, labels: labels).logicalNot()
      for stage in stages {
        let start = Date()
        var attacked = 0
        let robustBefore = try AttackSupport.count(robust)
        try AttackSupport.attackRemaining(model, images: images, labels: labels, robust: robust,
                                          adversarial: adversarial) { x, y, _ in
          attacked = x.shape[0]
          return try stage.perturb(model, images: x, labels: y)
        }
        let broken = robustBefore - (try AttackSupport.count(robust))
        report.append(CascadeStage(name: stage.name, attacked: attacked, broken: broken,
                                   seconds: Date().timeIntervalSince(start)))
        stageFinished?(report[report.count - 1])
      }
      robustFlags = robust
      return adversarial
    }
    return CascadeResult(adversarial: adversarial, robust: robustFlags!, stages: report)
  }
}
