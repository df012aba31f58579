import Testing
@testable import RobustTraining

/// Records what it is asked to attack, then delegates (or returns the images unchanged).
final class SpyAttack: Attack {
  let inner: (any Attack)?
  let threatModel: ThreatModel
  var received: [Tensor] = []
  var name: String { "spy(\(inner?.name ?? "identity"))" }

  init(_ inner: (any Attack)?, threatModel: ThreatModel) {
    self.inner = inner
    self.threatModel = threatModel
  }

  func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    received.append(images)
    return try inner?.perturb(model, images: images, labels: labels) ?? images
  }
}

/// Keeps the inner attack's example only for samples whose label passes `keep`.
struct LabelFilteredAttack: Attack {
  let inner: any Attack
  let keep: (Int64) -> Bool
  init(_ inner: any Attack, keep: @escaping (Int64) -> Bool) {
    self.inner = inner
    self.keep = keep
  }
  var threatModel: ThreatModel { inner.threatModel }
  var name: String { "filtered(\(inner.name))" }
  func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    let mask = try Tensor(try labels.toArray(Int64.self).map(keep))
    return try AttackSupport.choose(mask, try inner.perturb(model, images: images, labels: labels), images)
  }
}

@Suite struct AutoAttackCascadeTests {
  /// The test set with the first four labels changed, so that those points are wrong on clean inputs.
  static func dataWithCleanMistakes() throws -> (images: Tensor, labels: Tensor) {
    let (images, labels) = try AttackFixture.testSet()
    let shifted = try (try labels.slice(dim: 0, 0, 4) + 1).remainder(Double(AttackFixture.classes)).to(.int64)
    return (images, try Tensor.cat([shifted, try labels.slice(dim: 0, 4, labels.shape[0])]))
  }

  @Test func cascadeOnlyAttacksPointsStillRobust() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try Self.dataWithCleanMistakes()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    let first = SpyAttack(FGSM(threatModel: threat), threatModel: threat)
    let second = SpyAttack(nil, threatModel: threat)
    let cascade = try AutoAttack(name: "spies", threatModel: threat, stages: [first, second])
    let result = try cascade.run(model, images: images, labels: labels)

    let cleanRobust = try AttackFixture.robustFlags(model, images, labels)
    #expect(!cleanRobust[0...3].contains(true))
    let cleanIndices = try Tensor(cleanRobust.indices.filter { cleanRobust[$0] }.map(Int64.init))
    #expect(try first.received.single.allClose(try images.indexed(by: cleanIndices), rtol: 0, atol: 0))

    let afterFGSM = try AttackFixture.robustFlags(model, try FGSM(threatModel: threat).perturb(model, images: images, labels: labels), labels)
    let stillRobust = cleanRobust.indices.filter { cleanRobust[$0] && afterFGSM[$0] }
    #expect(stillRobust.count < cleanIndices.shape[0], "FGSM should break some points")
    #expect(try second.received.single.allClose(try images.indexed(by: try Tensor(stillRobust.map(Int64.init))), rtol: 0, atol: 0))
    #expect(result.stages.map(\.attacked) == [cleanIndices.shape[0], stillRobust.count])
    #expect(result.stages.map(\.broken) == [cleanIndices.shape[0] - stillRobust.count, 0])
    #expect(try result.robust.toArray(Bool.self) == cleanRobust.indices.map { stillRobust.contains($0) })
  }

  @Test func eachStageReportsWhenItFinishes() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    final class Log: @unchecked Sendable { var stages: [CascadeStage] = [] }
    let log = Log()
    var cascade = try AutoAttack(name: "pair", threatModel: threat,
                                 stages: [FGSM(threatModel: threat), SpyAttack(nil, threatModel: threat)])
    cascade.stageFinished = { log.stages.append($0) }
    let result = try cascade.run(model, images: images, labels: labels)
    #expect(log.stages == result.stages)
    #expect(log.stages.map(\.name) == ["FGSM", "spy(identity)"])
  }

  @Test func worstCaseMergeIsPerSample() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    // Two stages that can only break disjoint halves of the data (even vs odd labels), each
    // deterministic, so a sample's outcome does not depend on which others are attacked.
    let evenOnly = LabelFilteredAttack(FGSM(threatModel: threat)) { $0 % 2 == 0 }
    let oddOnly = LabelFilteredAttack(FGSM(threatModel: threat)) { $0 % 2 == 1 }
    var alone: [[Bool]] = []
    for attack in [evenOnly, oddOnly] {
      alone.append(try AttackFixture.robustFlags(model, try attack.perturb(model, images: images, labels: labels), labels))
    }
    let cascade = try AutoAttack(name: "pair", threatModel: threat, stages: [evenOnly, oddOnly])
    let result = try cascade.run(model, images: images, labels: labels)
    let merged = try result.robust.toArray(Bool.self)
    #expect(merged == zip(alone[0], alone[1]).map { $0 && $1 })
    // The returned examples realise that worst case, which beats the better single stage.
    #expect(try AttackFixture.robustFlags(model, result.adversarial, labels) == merged)
    #expect(merged.filter { $0 }.count < min(alone[0].filter { $0 }.count, alone[1].filter { $0 }.count))
  }

  @Test func standardCascadeUsesTheReferenceStagesAndParameters() throws {
    let standard = try AutoAttack.standard(epsilon: 8.0 / 255)
    #expect(standard.stages.map(\.name) == ["APGD-CE", "APGD-T", "FAB-T", "Square"])
    let apgd = try #require(standard.stages[0] as? APGD)
    #expect(apgd.iterations == 100 && apgd.restarts == 1 && apgd.rho == 0.75)
    let targeted = try #require(standard.stages[1] as? APGDTargeted)
    #expect(targeted.targetClasses == 9 && targeted.iterations == 100)
    let fab = try #require(standard.stages[2] as? FABTargeted)
    #expect(fab.targetClasses == 9 && fab.iterations == 100)
    let square = try #require(standard.stages[3] as? Square)
    #expect(square.queries == 5000 && square.initialFraction == 0.8)
    let pair = try AutoAttack.apgdPair(threatModel: try .l2(0.5))
    #expect(pair.stages.map(\.name) == ["APGD-CE", "APGD-T"])
  }

  @Test func standardCascadeIsAtLeastAsStrongAsEachStage() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet(count: 32)
    let cascade = try AutoAttack.standard(epsilon: AttackFixture.epsilon, iterations: 10, squareQueries: 100)
    let result = try cascade.run(model, images: images, labels: labels)
    let robust = try result.robust.toArray(Bool.self).filter { $0 }.count
    #expect(try AttackFixture.robustFlags(model, result.adversarial, labels).filter { $0 }.count == robust)
    let apgd = try AttackFixture.accuracy(model, try cascade.stages[0].perturb(model, images: images, labels: labels), labels)
    #expect(Double(robust) / 32 <= apgd)
    #expect(result.stages.count == 4)
  }
}

extension Array {
  /// The only element; fails the test otherwise.
  var single: Element {
    get throws {
      guard count == 1 else { throw AttackError.invalidInput("expected one element, got \(count)") }
      return self[0]
    }
  }
}
