import Foundation
import Testing

@testable import RobustTraining
@testable import RobustTrainingBench

/// The grid's time projection scales a bench figure by the training attack's gradient passes.
@Suite struct GridProjectionTests {
  @Test func aSingleStepAttackCountsOnePassAndFreeATItsReplays() throws {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("agr-projection-\(UUID().uuidString).json")
    defer { try? FileManager.default.removeItem(at: url) }
    try """
      [{"kind": "train", "tag": "smallcnn at", "model": "smallcnn", "method": "at", "agr": false, "attackSteps": 1,
        "imagesPerSecond": 96, "device": "cpu", "msPerStep": 500, "batchSize": 48, "precision": "fp32",
        "channelsLast": false, "warmup": 1, "steps": 2, "secondsPerEpoch": 520.8, "check": 2.3}]
      """.write(to: url, atomically: true, encoding: .utf8)
    let projection = try GridProjection(benchJSON: url)
    var c = TrainingConfiguration()
    c.dataset = "mnist"
    c.model = .smallCNN
    c.method = .at
    c.agr = false
    c.epochs = 2
    c.trainSubset = 192
    c.evalSteps = 0
    c.perturbation.steps = 10
    // 2 epochs x 192 images at 96 img/s = 4 s for the figure's 1 + 2 passes; PGD-10 takes 12 / 3 of it
    #expect(projection.estimate(c).seconds == 16)
    for attack in [TrainingPerturbation.Attack.fgsmRS, .nFGSM] {
      c.perturbation.attack = attack
      #expect(projection.estimate(c).seconds == 4, "\(attack)")
    }
    // Free-AT: m replays of a step without an attack pass of its own, 2 passes each: 4 s x (4 x 2) / 3
    c.perturbation.attack = .free
    c.perturbation.replays = 4
    #expect(abs(projection.estimate(c).seconds! - 4.0 * 8 / 3) < 1e-9)
  }
}
