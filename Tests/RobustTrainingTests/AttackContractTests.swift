import Testing
@testable import RobustTraining

/// Properties every attack must have, checked on each attack of the library.
@Suite struct AttackContractTests {
  @Test func everyAttackLowersAccuracyAndStaysInItsThreatModel() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let clean = try AttackFixture.accuracy(model, images, labels)
    #expect(clean > 0.9)
    for attack in try AttackFixture.quickAttacks() {
      let adversarial = try attack.perturb(model, images: images, labels: labels)
      let robust = try AttackFixture.accuracy(model, adversarial, labels)
      #expect(robust < clean, "\(attack.name) (\(attack.threatModel)): robust \(robust) vs clean \(clean)")
      let distance = try attack.threatModel.distance(adversarial, images).max().item()
      #expect(distance <= attack.threatModel.epsilon * (1 + 1e-5), "\(attack.name) (\(attack.threatModel)) moved \(distance)")
      #expect(try adversarial.min().item() >= 0 && adversarial.max().item() <= 1, "\(attack.name) left [0, 1]")
      #expect(adversarial.shape == images.shape)
    }
  }

  @Test func attacksLeaveParameterGradientsAndTrainingModeAlone() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet(count: 16)
    let sentinels = try model.parameters.map { try $0.onesLike() * 3 }
    for (p, g) in zip(model.parameters, sentinels) { try p.setGrad(g) }
    for attack in try AttackFixture.quickAttacks() {
      model.train()
      model.modesSeen = []
      _ = try attack.perturb(model, images: images, labels: labels)
      #expect(model.isTraining, "\(attack.name) did not restore training mode")
      #expect(!model.modesSeen.isEmpty && model.modesSeen.allSatisfy { !$0 }, "\(attack.name) ran in training mode")
      for (p, g) in zip(model.parameters, sentinels) {
        #expect(try p.grad?.allClose(g) == true, "\(attack.name) touched a parameter gradient")
      }
    }
  }

  @Test func attacksAreDeterministicForAGivenSeed() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet(count: 16)
    for attack in try AttackFixture.quickAttacks() {
      let first = try attack.perturb(model, images: images, labels: labels)
      let second = try attack.perturb(model, images: images, labels: labels)
      #expect(try first.allClose(second, rtol: 0, atol: 0), "\(attack.name) is not deterministic")
    }
  }
}
