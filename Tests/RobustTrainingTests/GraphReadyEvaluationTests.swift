import Testing
import Torch

@testable import RobustTraining

/// The trainer's per-epoch evaluation in the form a CUDA graph can record (no host waits, start noise
/// as an input) gives the same numbers as `PGD.perturb` followed by a forward pass.
@Suite(.serialized) struct GraphReadyEvaluationTests {
  @Test(arguments: [true, false]) func bestIterateEqualsPerturbWithOneRestart(randomStart: Bool) throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let pgd = try PGD(threatModel: try .lInf(AttackFixture.epsilon), steps: 12, stepSize: AttackFixture.epsilon / 4,
                      randomStart: randomStart, seed: 11)
    let reference = try pgd.perturb(model, images: images, labels: labels)
    let graphReady = try model.withMode(training: false) {
      try pgd.bestIterate(model, images: images, labels: labels, noise: try pgd.startNoise(like: images))
    }
    #expect(try (reference - graphReady).abs().max().item() == 0)
  }

  @Test func aBatchEvaluationMakesNoHostWaitsAndMatchesTheEagerForm() throws {
    let model = try AttackFixture.model()
    let (images, labels) = try AttackFixture.testSet()
    let pgd = try PGD(threatModel: try .lInf(AttackFixture.epsilon), steps: 5, stepSize: AttackFixture.epsilon / 4,
                      seed: 3)
    let evaluate = Trainer.batchEvaluation(model: model, attack: pgd, precision: .fp32, device: .cpu)
    let noise = try #require(try pgd.startNoise(like: images))
    let before = Torch.hostWaitCount
    let sums = try model.withMode(training: false) { try evaluate([images, labels, noise])[0] }
    #expect(Torch.hostWaitCount == before)
    let values = try sums.toArray(Double.self)

    let clean = try model.withMode(training: false) { try Autograd.withNoGrad { try model(images) } }
    let adversarial = try pgd.perturb(model, images: images, labels: labels)
    let attacked = try model.withMode(training: false) { try Autograd.withNoGrad { try model(adversarial) } }
    let expected = [
      try Functional.crossEntropy(clean, labels, reduction: .sum).item(),
      try TrainingStep.correct(clean, labels).item(),
      try Functional.crossEntropy(attacked, labels, reduction: .sum).item(),
      try TrainingStep.correct(attacked, labels).item(),
    ]
    #expect(values.count == 4)
    for (v, e) in zip(values, expected) { #expect(abs(v - e) <= 1e-5 * Swift.max(1, abs(e)), "\(values) vs \(expected)") }
    #expect(values[3] < values[1], "the attack should break some samples")
  }

  /// Where no graph can be recorded (here: no CUDA) the function still runs, directly, and says why.
  @Test func aGraphedFunctionFallsBackToDirectCalls() throws {
    guard !CUDA.isAvailable else { return }
    let graphed = GraphedFunction(device: 0) { inputs in [try inputs[0] * 2] }
    let out = try graphed([try Tensor.ones([2])])
    #expect(try out[0].toArray(Double.self) == [2, 2])
    #expect(graphed.disabledReason?.contains("CUDA graphs need CUDA") == true)
    _ = try graphed([try Tensor.ones([3])])
    #expect(graphed.directCalls == 2)
  }
}
