import Testing
import Torch
@testable import RobustTraining

@Suite struct PGDAttackTests {
  /// Per sample: robust under `stronger` implies robust under `weaker`.
  static func neverWeaker(_ stronger: [Bool], than weaker: [Bool]) -> Bool {
    zip(stronger, weaker).allSatisfy { !$0 || $1 }
  }

  @Test func moreStepsAreNeverWeakerWithTheSameSeed() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    var previous: [Bool]?
    for steps in [1, 3, 10, 30] {
      let pgd = try PGD(threatModel: threat, steps: steps, stepSize: AttackFixture.epsilon / 4, seed: 5)
      let robust = try AttackFixture.robustFlags(model, try pgd.perturb(model, images: images, labels: labels), labels)
      if let previous { #expect(Self.neverWeaker(robust, than: previous), "PGD-\(steps) lost a sample") }
      previous = robust
    }
  }

  /// On a GPU every value read makes the host wait: PGD reads one back per batch and restart, plus one
  /// early-exit check per 10 steps, never one per step.
  @Test func hostWaitsDoNotGrowWithEverySteps() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.lInf(AttackFixture.epsilon / 4)  // small: most samples survive every step
    func waits(_ steps: Int) throws -> Int {
      let pgd = try PGD(threatModel: threat, steps: steps, stepSize: AttackFixture.epsilon / 40, seed: 5)
      let before = Torch.hostWaitCount
      _ = try pgd.perturb(model, images: images, labels: labels)
      return Torch.hostWaitCount - before
    }
    let twenty = try waits(20)
    let forty = try waits(40)
    #expect(forty - twenty <= 2, "PGD-20: \(twenty) host waits, PGD-40: \(forty)")
  }

  @Test func moreRestartsAreNeverWeaker() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let threat = try ThreatModel.l2(AttackFixture.epsilon * 3)
    let one = try PGD(threatModel: threat, steps: 5, restarts: 1, seed: 9)
    let three = try PGD(threatModel: threat, steps: 5, restarts: 3, seed: 9)
    let robustOne = try AttackFixture.robustFlags(model, try one.perturb(model, images: images, labels: labels), labels)
    let robustThree = try AttackFixture.robustFlags(model, try three.perturb(model, images: images, labels: labels), labels)
    #expect(Self.neverWeaker(robustThree, than: robustOne))
    #expect(three.name == "PGD-5x3")
  }

  @Test func cwInfIsMarginLossPGD() throws {
    let attack = try CWInf(epsilon: 8.0 / 255)
    #expect(attack.pgd.loss == .margin)
    #expect(attack.pgd.steps == 20)
    #expect(attack.name == "CW-inf-20")
    #expect(abs(attack.pgd.stepSize - 2.0 / 255) < 1e-12)
  }

  @Test func marginLossIsPositiveExactlyWhenMisclassified() throws {
    let logits = try Tensor([Float(2), 1, 0, 0, 3, 1], shape: [2, 3])
    let labels = try Tensor([Int64(0), 0])
    #expect(try AttackLoss.margin(logits, labels).toArray(Float.self) == [-1, 3])
  }
}
