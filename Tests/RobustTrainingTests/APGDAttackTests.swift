import Testing
@testable import RobustTraining

@Suite struct APGDAttackTests {
  @Test func apgdCEIsAtLeastAsStrongAsPGD20() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    let pgd = try PGD(threatModel: threat, steps: 20)
    let apgd = try APGD(threatModel: threat)
    let pgdRobust = try AttackFixture.accuracy(model, try pgd.perturb(model, images: images, labels: labels), labels)
    let apgdRobust = try AttackFixture.accuracy(model, try apgd.perturb(model, images: images, labels: labels), labels)
    #expect(apgdRobust <= pgdRobust)
  }

  @Test func referenceDefaults() throws {
    let threat = try ThreatModel.lInf(8.0 / 255)
    let apgd = try APGD(threatModel: threat)
    #expect(apgd.iterations == 100 && apgd.rho == 0.75 && apgd.restarts == 1 && apgd.name == "APGD-CE")
    let targeted = try APGDTargeted(threatModel: threat)
    #expect(targeted.iterations == 100 && targeted.targetClasses == 9 && targeted.name == "APGD-T")
  }

  @Test func dlrLossMatchesItsDefinition() throws {
    // Sorted logits 4 > 3 > 1 > 0; true class 1 (logit 3) is second: DLR = -(3 - 4) / (4 - 1).
    let logits = try Tensor([Float(0), 3, 4, 1], shape: [1, 4])
    let dlr = try AttackLoss.dlr(logits, try Tensor([Int64(1)])).item()
    #expect(abs(dlr - 1.0 / 3) < 1e-6)
    // Targeted at class 3: -(3 - 1) / (4 - (1 + 0) / 2).
    let targeted = try AttackLoss.targetedDLR(logits, try Tensor([Int64(1)]), targets: try Tensor([Int64(3)])).item()
    #expect(abs(targeted - -2.0 / 3.5) < 1e-6)
  }

  @Test func apgdTargetedNeedsFourClasses() throws {
    final class ThreeClasses: Classifier {
      var isTraining = false
      var classCount: Int { 3 }
      func callAsFunction(_ images: Tensor) throws -> Tensor { try images.flattened(from: 1).slice(dim: 1, 0, 3) }
    }
    let attack = try APGDTargeted(threatModel: try .lInf(0.1), iterations: 2)
    #expect(throws: AttackError.self) {
      _ = try attack.perturb(ThreeClasses(), images: try Tensor.rand([2, 1, 2, 2]), labels: try Tensor([Int64(0), 1]))
    }
  }
}
