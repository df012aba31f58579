import Testing
@testable import RobustTraining

@Suite struct AttackEvaluationTests {
  @Test func reportsCleanAndPerAttackRobustnessPerSample() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AutoAttackCascadeTests.dataWithCleanMistakes()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    let fgsm = FGSM(threatModel: threat)
    let cascade = try AutoAttack.apgdPair(threatModel: threat, iterations: 10)
    var updates: [EvaluationProgress] = []
    let report = try evaluateRobustness(model, images: images, labels: labels, attacks: [fgsm, cascade], batchSize: 20,
                                        exampleCount: 50) { updates.append($0) }

    #expect(report.exampleCount == 50)
    let subset = try images.slice(dim: 0, 0, 50)
    let subsetLabels = try labels.slice(dim: 0, 0, 50)
    let clean = try AttackFixture.robustFlags(model, subset, subsetLabels)
    #expect(report.cleanCorrect == clean)
    #expect(report.cleanCount == 46)
    #expect(abs(report.cleanAccuracy - 0.92) < 1e-9)

    // FGSM is deterministic and per sample, so batching must not change its verdicts.
    let direct = try AttackFixture.robustFlags(model, try fgsm.perturb(model, images: subset, labels: subsetLabels),
                                               subsetLabels)
    #expect(report.attacks[0].robust == zip(direct, clean).map { $0 && $1 })
    #expect(report.attacks[0].attacked == 46)
    #expect(report.attacks[0].robustCount < 46)
    #expect(report.attacks.map(\.name) == ["FGSM", "AutoAttack (APGD-CE + APGD-T)"])
    #expect(report.attacks[1].stages.map(\.name) == ["APGD-CE", "APGD-T"])
    #expect(report.attacks[1].stages[0].attacked == 46)
    #expect(report.attacks[1].stages.map(\.broken).reduce(0, +) == 46 - report.attacks[1].robustCount)
    #expect(report.robustToAll == zip(report.attacks[0].robust, report.attacks[1].robust).map { $0 && $1 })
    #expect(report.attacks.allSatisfy { $0.seconds >= 0 && $0.robust.count == 50 })

    #expect(updates.count == 3 * 2)  // 3 batches × 2 attacks
    #expect(updates.last?.examplesDone == 50 && updates.last?.estimatedRemainingSeconds == 0)
    #expect(updates.map(\.batchIndex) == [0, 0, 1, 1, 2, 2])
  }

  @Test func rejectsAnAttackThatLeavesItsThreatModel() throws {
    struct Cheater: Attack {
      let threatModel: ThreatModel
      var name: String { "cheater" }
      func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
        try images.onesLike() - images
      }
    }
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet(count: 8)
    #expect(throws: AttackError.self) {
      _ = try evaluateRobustness(model, images: images, labels: labels,
                                 attacks: [Cheater(threatModel: try .lInf(0.01))])
    }
  }
}
