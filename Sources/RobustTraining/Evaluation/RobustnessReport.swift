/// The outcome of `evaluateRobustness`: clean accuracy and, per attack, which samples survived.
public struct RobustnessReport {
  public let exampleCount: Int
  /// Per sample: correctly classified on the clean input.
  public let cleanCorrect: [Bool]
  public let attacks: [AttackOutcome]

  public var cleanCount: Int { cleanCorrect.filter { $0 }.count }
  public var cleanAccuracy: Double { exampleCount == 0 ? 0 : Double(cleanCount) / Double(exampleCount) }

  /// Per sample: robust to every attack evaluated (the worst case over the list).
  public var robustToAll: [Bool] {
    attacks.reduce(cleanCorrect) { flags, outcome in zip(flags, outcome.robust).map { $0 && $1 } }
  }
  public var worstCaseAccuracy: Double {
    exampleCount == 0 ? 0 : Double(robustToAll.filter { $0 }.count) / Double(exampleCount)
  }
}

/// How one attack fared over the evaluated examples.
public struct AttackOutcome {
  public let name: String
  /// Per sample: still correctly classified on the attack's example (false where clean was wrong).
  public internal(set) var robust: [Bool]
  /// Samples the attack was run on (the clean-correct ones).
  public internal(set) var attacked: Int
  public internal(set) var seconds: Double
  /// For cascades such as AutoAttack: each stage's attacked and broken counts and time, summed over batches.
  public internal(set) var stages: [CascadeStage]

  public var robustCount: Int { robust.filter { $0 }.count }
  public var robustAccuracy: Double { robust.isEmpty ? 0 : Double(robustCount) / Double(robust.count) }
}

/// Reported after each attack finishes on each batch.
public struct EvaluationProgress: Sendable {
  public let attackName: String
  public let attackIndex: Int
  public let attackCount: Int
  public let batchIndex: Int
  public let batchCount: Int
  /// Examples whose batch every attack has finished.
  public let examplesDone: Int
  public let exampleCount: Int
  public let elapsedSeconds: Double
  /// Linear extrapolation from the (batch, attack) steps done so far; nil before the first one.
  public let estimatedRemainingSeconds: Double?
}
