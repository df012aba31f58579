import Foundation
import Testing

@testable import RobustTraining

/// Attacks as data: the catalog says what each name runs, reports carry it, and the evaluation PGD (the
/// per-epoch test's and `agr eval`'s) is one definition named with its step size.
@Suite struct AttackSpecificationTests {
  @Test func theCatalogSaysWhatANameRuns() throws {
    let pgd = try AttackCatalog.specification("PGD20", epsilon: 8.0 / 255)
    #expect(pgd.kind == .pgd && pgd.norm == "Linf" && pgd.steps == 20 && abs(pgd.stepSize! - 2.0 / 255) < 1e-15)
    let aa = try AttackCatalog.specification("autoattack", epsilon: 8.0 / 255)
    #expect(aa.kind == .autoAttack && aa.steps == nil && aa.stepSize == nil)
    #expect(try AttackCatalog.specification("cw", epsilon: 0.1).steps == 30)
    #expect(throws: AttackError.self) { try AttackCatalog.specification("pgd0", epsilon: 0.1) }
  }

  @Test func theEvaluationPGDIsNamedWithItsStep() throws {
    #expect(try AttackCatalog.make("pgd20", epsilon: 8.0 / 255).name == "PGD-20 (step 2/255)")
    #expect(PGD.label(steps: 20, stepSize: 0.04) == "PGD-20 (step 0.04)")
    #expect(stepSizeText(0.5 / 255) == "0.00196078" && stepSizeText(8.0 / 255) == "8/255")
    let attack = try PGD.evaluation(epsilon: 0.1, steps: 3, stepSize: 0.04, seed: 1)
    #expect(attack.name == "PGD-3 (step 0.04)" && attack.threatModel.epsilon == 0.1)
  }

  /// The per-epoch PGD takes `eval_step_size`, else the training attack's step (every earlier run and the
  /// quick start); the paper presets give 2/255.
  @Test func thePerEpochStepSize() throws {
    var c = TrainingPreset.quickstart.configuration
    #expect(c.evalStepSize == nil && c.evaluationStepSize == c.perturbation.stepSize)
    c.evalStepSize = 0.025
    #expect(c.evaluationStepSize == 0.025)
    c.evalStepSize = .nan
    #expect(throws: ConfigurationError.self) { try c.validate() }
    c.evalStepSize = -1
    #expect(throws: ConfigurationError.self) { try c.validate() }
    for preset in [TrainingPreset.cifar10, .cifar100, .tinyImageNet] {
      #expect(abs(preset.configuration.evaluationStepSize - 2.0 / 255) < 1e-15, "\(preset)")
    }
  }

  /// A report finds its PGD and AutoAttack results by what ran, whatever their labels; an older report
  /// without specifications still by its labels.
  @Test func reportsFindResultsByKind() throws {
    let pgd = try AttackCatalog.specification("pgd20", epsilon: 0.1)
    let aa = try AttackCatalog.specification("aa", epsilon: 0.1)
    func result(_ name: String, _ accuracy: Double, _ spec: AttackSpecification?) -> EvaluationReport.AttackResult {
      EvaluationReport.AttackResult(name: name, accuracy: accuracy, count: nil, seconds: nil, epsilon: 0.1, steps: spec?.steps,
                                    stages: nil, attack: spec)
    }
    func report(_ attacks: [EvaluationReport.AttackResult]) -> EvaluationReport {
      EvaluationReport(checkpoint: "x", dataset: nil, model: nil, epsilon: 0.1, examples: nil, seed: nil, cleanAccuracy: 0.9,
                       cleanCount: nil, attacks: attacks, worstCaseAccuracy: nil, seconds: nil)
    }
    let typed = report([result("my label", 0.4, aa), result("another", 0.5, pgd)])
    #expect(typed.pgdAccuracy == 0.5 && typed.autoAttackAccuracy == 0.4 && typed.accuracy(of: .square) == nil)
    let old = report([result("PGD-20", 0.5, nil), result("AutoAttack", 0.4, nil)])
    #expect(old.pgdAccuracy == 0.5 && old.autoAttackAccuracy == 0.4)
    let data = try JSONEncoder().encode(typed)
    #expect(try JSONDecoder().decode(EvaluationReport.self, from: data).attacks.map(\.attack) == [aa, pgd])
  }
}
