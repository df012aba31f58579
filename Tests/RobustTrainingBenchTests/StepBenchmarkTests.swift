import Foundation
import Testing

@testable import RobustTraining
@testable import RobustTrainingBench

/// `agr bench`'s measuring code, tiny: one step of a SmallCNN on 8 images.
@Suite(.serialized) struct StepBenchmarkTests {
  static let smallCase = BenchmarkCase(model: .smallCNN, method: .at, agr: true, batchSize: 8, attackSteps: 2)

  @Test func dispatchOverheadIsAPositiveTimePerOperation() throws {
    let microseconds = try StepBenchmark.dispatchOverhead(device: .cpu, count: 200, rounds: 2)
    #expect(microseconds > 0 && microseconds < 10_000, "\(microseconds) us/op")
  }

  @Test func awpConfigurationsAreTimedAndTagged() throws {
    let c = BenchmarkCase(model: .smallCNN, method: .at, agr: true, batchSize: 4, attackSteps: 1, awp: true)
    #expect(c.tag == "smallcnn at+awp+agr/flat bs=4 fp32")
    let r = try StepBenchmark.training(c, steps: 1, warmup: 1, device: .cpu)
    #expect(r.msPerStep > 0 && r.check.isFinite && r.line.hasPrefix("agr-swift smallcnn at+awp+agr/flat bs=4 fp32: "))
  }

  @Test func trainingAndEvaluationTimingsAreReported() throws {
    let c = BenchmarkCase(model: .smallCNN, method: .trades, agr: true, batchSize: 8, attackSteps: 1)
    #expect(c.tag == "smallcnn trades+agr/flat bs=8 fp32")
    let r = try StepBenchmark.training(c, steps: 1, warmup: 0, device: .cpu)
    #expect(r.kind == "train" && r.msPerStep > 0 && r.imagesPerSecond > 0 && r.check.isFinite)
    #expect(r.peakMemoryMiB == nil)
    #expect(r.line.hasPrefix("agr-swift smallcnn trades+agr/flat bs=8 fp32: ") && r.line.hasSuffix(" s/epoch"))
    let e = try StepBenchmark.evaluation(model: .smallCNN, batchSize: 8, attackSteps: 2, steps: 1, warmup: 0,
                                         device: .cpu)
    #expect(e.kind == "eval" && e.msPerStep > 0 && (0...1).contains(e.check))
    let json = try JSONEncoder().encode([r, e])
    #expect(json.count > 100)
  }

  @Test func theTrajectoryGuardPassesForTheFastPathsOnTheCPU() throws {
    var flat = Self.smallCase
    flat.reconstructionPath = .flat
    var channelsLast = Self.smallCase
    channelsLast.channelsLast = true
    channelsLast.method = .mart
    var preAct = Self.smallCase
    preAct.model = .preactResNet18
    preAct.imageSize = 8
    preAct.batchSize = 2
    preAct.attackSteps = 1
    preAct.reconstructionPath = .flat
    for c in [flat, channelsLast, preAct] {
      #expect(c.usesFastPath && !c.plain.usesFastPath)
      let check = try StepBenchmark.trajectoryCheck(c, steps: 3, device: .cpu, seed: 3)
      #expect(check.plainLosses.count == 3 && check.fastLosses.count == 3)
      #expect(check.passed, "\(check.line)")
      #expect(check.replicaLosses == check.plainLosses, "the CPU repeats the plain path bitwise")
      #expect(check.noise == 0 && check.allowed == check.tolerance)
      #expect(check.line.hasPrefix("# check \(c.model.rawValue)") && check.line.hasSuffix(": ok"))
    }
  }

  @Test func theTrajectoryGuardAllowsThePlainPathsOwnNoise() throws {
    // the plain path drifts by 0.004 between two runs (a GPU's non-deterministic kernels): 5x that is allowed
    let noisy = TrajectoryCheck(tag: "x", plainLosses: [2.0, 1.5], fastLosses: [2.0, 1.51], replicaLosses: [2.0, 1.506],
                                tolerance: 1e-3)
    #expect(abs(noisy.noise - 0.006 / 1.5) < 1e-12 && abs(noisy.allowed - 0.03 / 1.5) < 1e-12)
    #expect(noisy.passed, "\(noisy.line)")
    #expect(noisy.line.contains("plain vs plain 4.00e-03") && noisy.line.hasSuffix(": ok"))
    // the same drift with a factor of 1 is not enough for a difference of 0.0067
    var strict = noisy
    strict.noiseFactor = 1
    #expect(!strict.passed && strict.line.hasSuffix("FAILED"))
    // a difference far beyond the noise fails
    let wrong = TrajectoryCheck(tag: "x", plainLosses: [2.0, 1.5], fastLosses: [2.0, 2.5], replicaLosses: [2.0, 1.506],
                                tolerance: 1e-3)
    #expect(!wrong.passed)
    // a non-finite replica is no measure of noise
    let broken = TrajectoryCheck(tag: "x", plainLosses: [2.0], fastLosses: [2.0], replicaLosses: [.nan], tolerance: 1e-3)
    #expect(!broken.passed)
  }

  @Test func theTrajectoryGuardFailsOnDifferentLosses() throws {
    let check = TrajectoryCheck(tag: "x", plainLosses: [2.0, 1.5], fastLosses: [2.0, 1.51], tolerance: 1e-3)
    #expect(!check.passed && check.line.hasSuffix("FAILED"))
    #expect(abs(check.maxRelativeDifference - 0.01 / 1.5) < 1e-12)
    let nonFinite = TrajectoryCheck(tag: "x", plainLosses: [2.0], fastLosses: [.nan], tolerance: 1e-3)
    #expect(!nonFinite.passed)
  }

  @Test func theTrajectoryGuardRefusesWhatItCannotCompare() throws {
    var bf16 = Self.smallCase
    bf16.precision = .bf16
    #expect(throws: (any Error).self) { _ = try StepBenchmark.trajectoryCheck(bf16, steps: 3, device: .cpu) }
    var graphs = Self.smallCase
    graphs.cudaGraphs = true
    #expect(throws: (any Error).self) { _ = try StepBenchmark.trajectoryCheck(graphs, steps: 2, device: .cpu) }
    #expect(throws: (any Error).self) { _ = try StepBenchmark.trajectoryCheck(graphs, steps: 3, device: .cpu) }
  }
}

/// The operation census of a training step (`agr bench --count-ops`).
@Suite(.serialized) struct StepOperationCensusTests {
  @Test func aTrainingStepReadsNothingBackAndAGRAddsFewOperations() throws {
    let at = BenchmarkCase(model: .smallCNN, method: .at, agr: false, batchSize: 4, attackSteps: 3)
    var agr = at
    agr.agr = true
    let plain = try StepBenchmark.operationCensus(at, device: .cpu)
    let reconstructed = try StepBenchmark.operationCensus(agr, device: .cpu)
    #expect(plain.hostReads == 0 && reconstructed.hostReads == 0)
    #expect(plain.kernels > 50 && reconstructed.kernels > plain.kernels)
    // one more backward pass (the clean gradient) plus the batched reconstruction, not a loop over tensors
    #expect(reconstructed.operations["aten::_log_softmax_backward_data"] == plain.operations["aten::_log_softmax_backward_data"]! + 1)
    #expect(plain.line(tag: at.tag).hasPrefix("# ops smallcnn at bs=4 fp32: "))
  }
}
