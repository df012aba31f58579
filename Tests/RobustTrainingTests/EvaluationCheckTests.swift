import Testing
@testable import RobustTraining

/// The fixture's MLP with its input or output changed, to trip one check each.
final class TrippingModel: Classifier {
  var isTraining = true
  let inner: TinyAttackMLP
  let change: (Tensor, TinyAttackMLP) throws -> Tensor

  init(_ change: @escaping (Tensor, TinyAttackMLP) throws -> Tensor) throws {
    inner = try AttackFixture.model()
    self.change = change
  }

  var classCount: Int { inner.classCount }
  var children: [(name: String, module: any Module)] { [("inner", inner)] }
  func callAsFunction(_ images: Tensor) throws -> Tensor { try change(images, inner) }
}

/// Each of `EvaluationChecks`' warnings fires on a model (or inputs) built to trip it and stays quiet on the
/// fixture's normal model.
@Suite struct EvaluationCheckTests {
  let attacks = [try! AttackCatalog.specification("apgd-ce", epsilon: 0.1)]

  func kinds(_ model: any Classifier, images: Tensor? = nil, attacks: [AttackSpecification]? = nil) throws
    -> [EvaluationWarning.Kind]
  {
    let (x, y) = try AttackFixture.testSet(count: 32)
    return try EvaluationChecks.beforeAttacks(model, images: images ?? x, labels: y, attacks: attacks ?? self.attacks)
      .map(\.kind)
  }

  @Test func aNormalModelRaisesNoWarning() throws {
    #expect(try kinds(try AttackFixture.model()) == [])
  }

  @Test func randomisedOutputsAreFoundAndRandIsSaidToBeNeededOnlyThen() throws {
    let generator = try Generator(seed: 5)
    let noisy = try TrippingModel { x, mlp in try mlp(x) + (try Tensor.randn([x.shape[0], 5], generator: generator) * 0.5) }
    #expect(try kinds(noisy) == [.randomizedOutputs])
    let rand = [try AttackCatalog.specification("aa-rand", epsilon: 0.1)]
    #expect(try kinds(noisy, attacks: rand) == [.randomizedOutputs])
    #expect(try kinds(try AttackFixture.model(), attacks: rand) == [.randNotNeeded])
  }

  @Test func probabilitiesInsteadOfLogitsAreFound() throws {
    let softmax = try TrippingModel { x, mlp in try Functional.softmax(try mlp(x), dim: 1) }
    let warnings = try kinds(softmax)
    #expect(warnings.contains(.probabilityOutputs), "\(warnings)")
  }

  @Test func inputsOutsideTheUnitRangeAreFound() throws {
    let (x, _) = try AttackFixture.testSet(count: 32)
    let normalised = try (x - 0.5) / 0.25
    #expect(try kinds(try AttackFixture.model(), images: normalised) == [.inputsOutOfRange])
  }

  @Test func zeroInputGradientsAreFound() throws {
    // logits a million times larger: the softmax saturates in float32 and the cross-entropy's gradient is exactly 0
    let saturated = try TrippingModel { x, mlp in try mlp(x) * 1e6 }
    let (x, y) = try AttackFixture.testSet(count: 32)
    let warnings = try EvaluationChecks.beforeAttacks(saturated, images: x, labels: y, attacks: attacks)
    #expect(warnings.map(\.kind) == [.zeroGradients], "\(warnings)")
    #expect(warnings.first?.finding.contains("of 32 points") == true)
  }

  @Test func targetedAttacksWithMoreTargetsThanClassesAreFound() throws {
    // the fixture has 5 classes: 4 targets, not AutoAttack's 9
    let targeted = [try AttackCatalog.specification("apgd-t", epsilon: 0.1), try AttackCatalog.specification("aa", epsilon: 0.1)]
    #expect(try kinds(try AttackFixture.model(), attacks: targeted) == [.fewClasses, .fewClasses])
    #expect(AttackCatalog.apgdT.minimumClasses == 4 && AttackCatalog.apgdDLR.minimumClasses == 3)
  }

  @Test func squareBreakingWhatTheWhiteBoxAttacksDidNotIsGradientMasking() throws {
    // Quantised inputs: the gradient through rounding is zero, so APGD cannot move, while Square's ±eps
    // stripes and windows cross quantisation steps and break points
    let quantised = try TrippingModel { x, mlp in try mlp(try (try x * 4).rounded() / 4) }
    let (x, y) = try AttackFixture.testSet(count: 64)
    let threat = try ThreatModel.lInf(0.2)
    let report = try evaluateRobustness(quantised, images: x, labels: y, attacks: [
      try APGD(threatModel: threat, iterations: 10), try Square(threatModel: threat, queries: 100),
    ])
    let robust = Dictionary(uniqueKeysWithValues: report.attacks.map { ($0.name, $0.robust) })
    let warning = EvaluationChecks.gradientMasking(examples: 64, robust: robust, squareStageBroken: nil)
    #expect(warning?.kind == .gradientMasking, "APGD \(report.attacks[0].robustCount), Square \(report.attacks[1].robustCount)")
    // the normal model: what Square breaks, APGD breaks too
    let normal = try evaluateRobustness(try AttackFixture.model(), images: x, labels: y, attacks: [
      try APGD(threatModel: threat, iterations: 10), try Square(threatModel: threat, queries: 100),
    ])
    let normalRobust = Dictionary(uniqueKeysWithValues: normal.attacks.map { ($0.name, $0.robust) })
    #expect(EvaluationChecks.gradientMasking(examples: 64, robust: normalRobust, squareStageBroken: nil) == nil)
    // a cascade's Square stage breaking 1 of 64 is above the 0.2% the reference allows
    #expect(EvaluationChecks.gradientMasking(examples: 64, robust: [:], squareStageBroken: 1)?.kind == .gradientMasking)
    #expect(EvaluationChecks.gradientMasking(examples: 1000, robust: [:], squareStageBroken: 2) == nil)
  }
}
