import Foundation
import Testing

@testable import RobustTraining

/// Issue 30's schedules and tricks: the catastrophic-overfitting check, the one-cycle schedule's peak, label smoothing.
@Suite(.serialized) struct FastTrainingTests {
  @Test func overfitRuleOnAConstructedSequence() {
    func flags(_ accuracies: [Double], _ reference: OverfitReference, drop: Double = 0.2) -> [Bool] {
      accuracies.indices.map {
        OverfitCheck.isOverfit(accuracy: accuracies[$0], earlier: Array(accuracies[..<$0]), drop: drop, reference: reference)
      }
    }
    // Wong et al.'s rule: a fall of more than 0.2 from the previous epoch's check
    #expect(flags([0.30, 0.42, 0.45, 0.44, 0.05, 0.02], .previous) == [false, false, false, false, true, false])
    #expect(flags([0.30, 0.42, 0.45, 0.44, 0.05, 0.02], .best) == [false, false, false, false, true, true])
    // a slow collapse, 0.15 an epoch: only the best-so-far reference sees it
    #expect(flags([0.45, 0.30, 0.15, 0.0], .previous) == [false, false, false, false])
    #expect(flags([0.45, 0.30, 0.15, 0.0], .best) == [false, false, true, true])
    // exactly the threshold is no drop past it
    #expect(flags([0.5, 0.25], .previous, drop: 0.25) == [false, false])
  }

  /// The gap rule: flagged when the training attack's accuracy on the held batch exceeds PGD's by more than the gap.
  @Test func gapRule() {
    #expect(OverfitCheck.isOverfit(trainingAttackAccuracy: 0.92, pgdAccuracy: 0.05, gap: 0.3))
    #expect(!OverfitCheck.isOverfit(trainingAttackAccuracy: 0.55, pgdAccuracy: 0.36, gap: 0.3))
    #expect(!OverfitCheck.isOverfit(trainingAttackAccuracy: 0.5, pgdAccuracy: 0.25, gap: 0.25), "exactly the gap is not past it")
  }

  func configuration(epochs: Int = 3) -> TrainingConfiguration {
    var c = TrainingConfiguration()
    c.method = .at
    c.agr = false
    c.epochs = epochs
    c.batchSize = 8
    c.learningRate = 0.05
    c.schedule = .constant(0.05)
    c.agrClip = 1  // the held batch must be learnt within an epoch of 6 steps
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 2)
    c.perturbation.attack = .fgsmRS
    c.evalSteps = 2
    c.diagnosticsEvery = 0
    c.overfitCheckSteps = 5
    c.seed = 3
    return c
  }

  /// Collapses the model after every step of epoch `epoch` (1-based): the last layer zeroed, so it predicts one
  /// class and the held batch's robust accuracy falls to its share of that class (1/2 here).
  final class Collapse: TrainingHook {
    let model: TinyConvNet
    let firstIteration: Int
    init(_ model: TinyConvNet, fromIteration: Int) { (self.model, firstIteration) = (model, fromIteration) }
    func trainerFinishedStep(_ trainer: Trainer, iteration: Int, output: TrainingStep.Output) throws {
      guard iteration >= firstIteration else { return }
      try Autograd.withNoGrad { try Foreach.zero_([model.fc.weight] + [model.fc.bias].compactMap { $0 }) }
    }
  }

  func train(_ c: TrainingConfiguration, agr: Bool, collapseFromEpoch: Int? = nil, run: RunDirectory? = nil) throws
    -> (Trainer, [EpochRecord])
  {
    var c = c
    c.agr = agr
    Torch.manualSeed(1)
    let model = TinyConvNet()
    let trainer = try Trainer(configuration: c, model: model, train: try halvesDataset(count: 48, seed: 1),
                              test: try halvesDataset(count: 16, seed: 2), run: run)
    if let epoch = collapseFromEpoch { trainer.hooks.append(Collapse(model, fromIteration: (epoch - 1) * 6)) }
    return (trainer, try trainer.train())
  }

  @Test func aNormalRunIsNotFlagged() throws {
    for agr in [false, true] {
      var c = configuration()
      c.overfitGap = 0.3
      let (_, records) = try train(c, agr: agr)
      #expect(records.allSatisfy { $0.overfitCheckTrainingAttackAccuracy != nil }, "the gap rule measures the training attack")
      #expect(records.count == 3)
      #expect(records.allSatisfy { $0.catastrophicOverfitting == false }, "AGR \(agr): \(records.map(\.overfitCheckAccuracy))")
      #expect(records.allSatisfy { ($0.overfitCheckAccuracy ?? -1) >= 0.7 }, "AGR \(agr): \(records.map(\.overfitCheckAccuracy))")
    }
  }

  /// A model that resists its training attack but not PGD from the start, as after catastrophic overfitting in the
  /// first epoch: a training attack of 1% of eps from the clean point against PGD at eps 0.3. No drop ever shows
  /// (Wong et al.'s rule stays silent); the gap rule flags every epoch.
  @Test func aGapWithoutADropIsFlaggedByTheGapRule() throws {
    var c = configuration(epochs: 2)
    c.perturbation.epsilon = 0.3
    c.perturbation.noise = 0
    c.perturbation.stepMultiplier = 0.01
    let (_, silent) = try train(c, agr: false)
    #expect(silent.map(\.catastrophicOverfitting) == [false, false], "\(silent.map(\.overfitCheckAccuracy))")
    c.overfitGap = 0.3
    let (_, flagged) = try train(c, agr: false)
    #expect(flagged.map(\.catastrophicOverfitting) == [true, true],
            "PGD \(flagged.map(\.overfitCheckAccuracy)), training attack \(flagged.map(\.overfitCheckTrainingAttackAccuracy))")
    #expect(flagged.map(\.overfitCheckAccuracy) == silent.map(\.overfitCheckAccuracy), "the extra attack changes nothing else")
  }

  @Test func aCollapseIsFlaggedAndStopOnOverfitKeepsTheEpochBefore() throws {
    for agr in [false, true] {
      let (_, flagged) = try train(configuration(), agr: agr, collapseFromEpoch: 2)
      #expect(flagged.map(\.catastrophicOverfitting) == [false, true, false], "AGR \(agr): \(flagged.map(\.overfitCheckAccuracy))")
      #expect(flagged[1].overfitCheckAccuracy == 0.5)

      var c = configuration()
      c.stopOnOverfit = true
      let run = temporaryRun("overfit")
      defer { try? FileManager.default.removeItem(at: run.url) }
      let (trainer, records) = try train(c, agr: agr, collapseFromEpoch: 2, run: run)
      #expect(records.count == 2 && trainer.stoppedOnOverfit == 2)
      // the run's model is epoch 1's, not the collapsed one
      let (reference, _) = try train(configuration(epochs: 1), agr: agr)
      let saved = TinyConvNet()
      let metadata = try ModuleCheckpoint.load(into: saved, from: run.lastModel)
      #expect(metadata["epoch"] == "1")
      try expectSameState(saved, reference.model)
      let written = try String(contentsOf: run.url.appendingPathComponent("metrics.csv"), encoding: .utf8)
      #expect(written.split(separator: "\n").count == 3)  // header, epoch 1, the flagged epoch 2
    }
  }

  @Test func peakMemoryIsRecordedAndTabulated() throws {
    let (_, records) = try train(configuration(epochs: 1), agr: false)
    let peak = try #require(records.first?.peakMemoryBytes)
    #expect(peak > 10_000_000)  // libtorch alone is resident with more than 10 MB
    #expect(GridMetric.peakMemory.quantityText(1_610_612_736) == "1.50 GiB")
    #expect(!GridMetric.peakMemory.isAccuracy)
  }

  @Test func stopOnOverfitAloneChecksWithWongsSteps() throws {
    var c = TrainingConfiguration()
    #expect(c.overfitSteps == 0)
    c.stopOnOverfit = true
    #expect(c.overfitSteps == OverfitCheck.defaultSteps)
    func refused(_ change: (inout TrainingConfiguration) -> Void) -> String? {
      var c = TrainingConfiguration()
      change(&c)
      return (#expect(throws: ConfigurationError.self) { try c.validate() })?.key
    }
    #expect(refused { $0.overfitDrop = 0.2 } == "overfit_drop")
    #expect(refused { $0.overfitCheckSteps = 5; $0.overfitDrop = 0 } == "overfit_drop")
    #expect(refused { $0.overfitCheckSteps = -1 } == "overfit_check_steps")
    #expect(refused { $0.overfitGap = 0.3 } == "overfit_gap")
    #expect(refused { $0.overfitCheckSteps = 5; $0.overfitGap = 1 } == "overfit_gap")
    #expect(refused { $0.overfitCheckSteps = 5; $0.overfitGap = 0.3; $0.perturbation.attack = .free } == "overfit_gap")
    #expect(refused { $0.method = .standard; $0.stopOnOverfit = true } == "stop_on_overfit")
    #expect(refused { $0.labelSmoothing = 1 } == "label_smoothing")
    #expect(refused { $0.method = .mart; $0.labelSmoothing = 0.1 } == "label_smoothing")
  }

  @Test func oneCyclePeaksWhereTold() throws {
    let half = try LearningRateSchedule.parse("onecycle:0.5", base: 0.2, epochs: 10)
    // 0 -> 0.2 at epoch 5 -> 0, linear in (epoch + fraction)
    for (epoch, fraction, rate) in [(0, 0.0, 0.0), (2, 0.5, 0.1), (5, 0.0, 0.2), (6, 0.25, 0.15), (9, 0.5, 0.02)] {
      #expect(abs(half.rate(epoch: epoch, fraction: fraction) - rate) < 1e-12, "\(epoch) + \(fraction)")
    }
    #expect(try LearningRateSchedule.parse("onecycle", base: 0.2, epochs: 10) == .oneCycle(maximum: 0.2, epochs: 10))
    for bad in ["onecycle:1", "onecycle:0", "onecycle:x", "onecycle:0.5:2"] {
      #expect(throws: ScheduleError.self, "\(bad)") { try LearningRateSchedule.parse(bad, base: 0.1, epochs: 10) }
    }
  }

  /// torch's label smoothing: (1 - s) CE(y) + s * mean over classes of -log p_k.
  @Test func labelSmoothingIsTorchsFormula() throws {
    let logits = try Tensor([2.0, -1.0, 0.5, 0.0, 1.5, -0.5] as [Float], shape: [2, 3])
    let labels = try Tensor([0, 2] as [Int64], shape: [2])
    let s = 0.1
    let logP = try Functional.logSoftmax(logits, dim: 1).toArray(Double.self)
    let rows = [(0, 0), (1, 2)].map { (row, label) -> Double in
      let lp = Array(logP[row * 3..<(row + 1) * 3])
      return (1 - s) * -lp[label] + s * lp.map { -$0 }.reduce(0, +) / 3
    }
    let expected = rows.reduce(0, +) / 2
    for objective in [AdversarialObjective(labelSmoothing: s) as any TrainingObjective, StandardObjective(labelSmoothing: s)] {
      let loss = try objective.loss(clean: logits, adversarial: logits, labels: labels).item()
      #expect(abs(loss - expected) < 1e-6, "\(type(of: objective))")
    }
    let trades = try TRADESObjective(beta: 6, labelSmoothing: s).loss(clean: logits, adversarial: logits, labels: labels).item()
    #expect(abs(trades - expected) < 1e-6)  // the KL of a prediction from itself is 0
    var c = TrainingConfiguration()
    c.labelSmoothing = s
    #expect((TrainingMethod.at.objective(for: c) as? AdversarialObjective)?.labelSmoothing == s)
  }
}
