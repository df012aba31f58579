import Testing
@testable import RobustTraining

/// AutoAttack's versions are composed per norm as the official code's `_set_version` sets them up.
@Suite struct AutoAttackVersionTests {
  func describe(_ cascade: AutoAttack) -> [String] {
    cascade.stages.map { stage in
      switch stage {
      case let a as APGD: return "\(a.name) x\(a.restarts)\(a.run.largerEpsilons ? " large" : "")"
      case let a as APGDTargeted: return "APGD-T \(a.targetClasses)t x\(a.restarts)\(a.run.largerEpsilons ? " large" : "")"
      case let a as FABTargeted: return "FAB-T \(a.targetClasses)t x\(a.restarts)"
      case let a as FABUntargeted: return "FAB x\(a.restarts)"
      case let a as Square: return "Square \(a.queries)q p\(a.initialFraction)"
      default: return stage.name
      }
    }
  }

  @Test func standardPerNorm() throws {
    for norm in [Norm.lInf, .l2] {
      let aa = try AutoAttack.standard(threatModel: try ThreatModel(norm: norm, epsilon: 0.5))
      #expect(describe(aa) == ["APGD-CE x1", "APGD-T 9t x1", "FAB-T 9t x1", "Square 5000q p0.8"], "\(norm)")
      #expect(aa.stages.allSatisfy { $0.threatModel.norm == norm })
    }
    let l1 = try AutoAttack.standard(threatModel: try .l1(12))
    #expect(describe(l1) == ["APGD-CE x5 large", "APGD-T 5t x1 large", "FAB-T 9t x1", "Square 5000q p0.8"])
  }

  @Test func plusAndRand() throws {
    let plus = try AutoAttack.plus(threatModel: try .l2(0.5))
    #expect(describe(plus) == ["APGD-CE x5", "APGD-DLR x5", "FAB x5", "Square 5000q p0.8", "APGD-T 9t x1", "FAB-T 9t x1"])
    #expect(try AutoAttack.plus(threatModel: try .l1(12)).stages.count == 6)
    let rand = try AutoAttack.rand(threatModel: try .lInf(8.0 / 255))
    #expect(describe(rand) == ["APGD-CE (EOT 20) x1", "APGD-DLR (EOT 20) x1"])
    #expect(rand.stages.compactMap { ($0 as? APGD)?.run.eotIterations } == [20, 20])
  }

  @Test func theCatalogBuildsEachVersionInTheRequestedNorm() throws {
    #expect(try AttackCatalog.make("aa", epsilon: 0.5, norm: .l2).name == "AutoAttack L2")
    #expect(try AttackCatalog.make("aa-plus", epsilon: 0.5, norm: .l2).name == "AutoAttack+ L2")
    #expect(try AttackCatalog.make("aa-rand", epsilon: 12, norm: .l1).threatModel == (try .l1(12)))
    #expect(try AttackCatalog.specification("aa", epsilon: 12, norm: .l1).norm == "L1")
    // an attack without a form in a norm is refused, naming the norm it has
    do {
      _ = try AttackCatalog.make("cw20", epsilon: 0.5, norm: .l2)
      Issue.record("cw accepted L2")
    } catch { #expect("\(error)".contains("implemented for linf")) }
  }

  @Test func eotAveragesGradientsOverPasses() throws {
    // on a deterministic model EOT changes nothing but the cost: the same points break
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet(count: 16)
    let threat = try ThreatModel.lInf(AttackFixture.epsilon)
    let once = try APGD(threatModel: threat, iterations: 10).perturb(model, images: images, labels: labels)
    let averaged = try APGD(threatModel: threat, iterations: 10, eotIterations: 3).perturb(model, images: images, labels: labels)
    #expect(try AttackFixture.robustFlags(model, once, labels) == AttackFixture.robustFlags(model, averaged, labels))
  }
}
