import Testing
@testable import RobustTraining

@Suite struct ThreatModelAttackTests {
  @Test func epsilonOutsideTheUnitIntervalThrowsNamingIt() throws {
    for bad in [-0.1, 1.5, Double.nan] {
      do {
        _ = try ThreatModel.lInf(bad)
        Issue.record("epsilon \(bad) was accepted")
      } catch let error as AttackError {
        #expect(error.description.contains("\(bad)"))
      }
    }
    #expect(try ThreatModel.l2(2).epsilon == 2)
  }

  @Test func projectionLandsInTheBallAndTheBox() throws {
    let center = try Tensor.rand([4, 1, 3, 3], generator: try Generator(seed: 1))
    let far = try Tensor.randn([4, 1, 3, 3], generator: try Generator(seed: 2)) * 3
    for threat in [try ThreatModel.lInf(0.1), try ThreatModel.l2(0.5)] {
      let projected = try threat.project(far, around: center)
      try threat.validate(projected, original: center, attack: "projection")
    }
  }

  @Test func validationRejectsExamplesOutsideTheBallOrTheBox() throws {
    let threat = try ThreatModel.lInf(0.1)
    let images = try Tensor.full([2, 1, 2, 2], 0.5)
    #expect(throws: AttackError.self) { try threat.validate(try images + 0.2, original: images, attack: "test") }
    #expect(throws: AttackError.self) { try threat.validate(try images + 0.6, original: images, attack: "test") }
    try threat.validate(try images + 0.1, original: images, attack: "test")
  }

  @Test func attacksRejectImagesOutsideTheUnitRange() throws {
    let model = try AttackFixture.model()
    let images = try Tensor.full([2, 1, 6, 6], 1.5)
    #expect(throws: AttackError.self) {
      _ = try FGSM(threatModel: try .lInf(0.1)).perturb(model, images: images, labels: try Tensor([Int64(0), 1]))
    }
  }
}
