import Foundation
import Testing

@testable import RobustTraining

/// What of the CUDA-graph training path can be checked without a GPU: the warm-up before a recording
/// leaves no trace (weights, BatchNorm and momentum buffers, random numbers), outputs can be copied out
/// of a graph's tensors, the fast-vs-plain trajectory guard, and clear errors where graphs cannot run.
@Suite(.serialized) struct CUDAGraphStepTests {
  static let smallCase = BenchmarkCase(model: .smallCNN, method: .at, agr: true, batchSize: 8, attackSteps: 2)

  func state(_ step: TrainingStep) throws -> [Tensor] {
    try (step.optimizer.parameters + step.model.namedBuffers().map(\.tensor)
      + step.optimizer.momentumBuffers.compactMap { $0 }).map { try $0.clone() }
  }

  func identical(_ a: [Tensor], _ b: [Tensor]) throws -> Bool {
    guard a.count == b.count else { return false }
    for (x, y) in zip(a, b) where try (x.to(.float64) - y.to(.float64)).abs().max().item() != 0 { return false }
    return true
  }

  /// Two runs from one seed: one with two extra steps taken and undone before its second step.
  @Test func warmupUndoneBySnapshotLeavesNoTrace() throws {
    func run(undoneSteps: Int) throws -> (losses: [Double], state: [Tensor]) {
      Torch.manualSeed(7)
      let step = try StepBenchmark.makeStep(Self.smallCase, device: .cpu)
      let (images, labels) = try StepBenchmark.batch(.smallCNN, size: 8, device: .cpu, channelsLast: false)
      var losses = [try step(images: images, labels: labels, agr: true).loss.item()]
      if undoneSteps > 0 {
        let snapshot = try TrainingSnapshot(step, device: .cpu)
        for _ in 0..<undoneSteps { _ = try step(images: images, labels: labels, agr: true) }
        try snapshot.restore()
      }
      for _ in 0..<2 { losses.append(try step(images: images, labels: labels, agr: true).loss.item()) }
      return (losses, try state(step))
    }
    let plain = try run(undoneSteps: 0)
    let undone = try run(undoneSteps: 2)
    #expect(plain.losses == undone.losses)
    #expect(try identical(plain.state, undone.state))
    // and the undone steps did change the state while they ran (the check above is not vacuous)
    Torch.manualSeed(7)
    let step = try StepBenchmark.makeStep(Self.smallCase, device: .cpu)
    let (images, labels) = try StepBenchmark.batch(.smallCNN, size: 8, device: .cpu, channelsLast: false)
    _ = try step(images: images, labels: labels, agr: true)
    let before = try state(step)
    _ = try step(images: images, labels: labels, agr: true)
    #expect(try !identical(before, try state(step)))
  }

  @Test func copiedOutputsAreIndependentOfTheOriginals() throws {
    Torch.manualSeed(1)
    let step = try StepBenchmark.makeStep(Self.smallCase, device: .cpu)
    let (images, labels) = try StepBenchmark.batch(.smallCNN, size: 8, device: .cpu, channelsLast: false)
    let output = try step(images: images, labels: labels, agr: true)
    let copy = try output.copied()
    let loss = try output.loss.item()
    try output.loss.mul_(2)
    try output.statistics!.cosine.mul_(0)
    #expect(try copy.loss.item() == loss)
    #expect(try copy.statistics!.cosine.abs().sum().item() > 0)
    #expect(copy.conflicts != nil && copy.cleanCorrect != nil && copy.adversarialCorrect != nil)
  }

  @Test func aGraphedStepNeedsACUDADevice() throws {
    let step = try StepBenchmark.makeStep(Self.smallCase, device: .cpu)
    let graphed = GraphedTrainingStep(step: step)
    let (images, labels) = try StepBenchmark.batch(.smallCNN, size: 8, device: .cpu, channelsLast: false)
    let error = #expect(throws: (any Error).self) { try graphed(images: images, labels: labels, agr: true) }
    #expect("\(error!)".contains("CUDA graphs need a CUDA device"))
    #expect(graphed.captureCount == 0)
  }

  @Test func aGraphCannotBeMadeWithoutCUDA() throws {
    guard !CUDA.isAvailable else { return }
    let error = #expect(throws: (any Error).self) { _ = try CUDAGraph(device: 0) }
    #expect("\(error!)".contains("CUDA graphs need CUDA"))
    let loadError = #expect(throws: (any Error).self) { try CUDAGraph.loadLibrary() }
    #expect("\(loadError!)".contains("CUDA graphs need CUDA"))
  }

  @Test func theTrajectoryGuardPassesForTheFastPathsOnTheCPU() throws {
    var flat = Self.smallCase
    flat.reconstructionPath = .flat
    var channelsLast = Self.smallCase
    channelsLast.channelsLast = true
    channelsLast.method = .mart
    var nativeBatchNorm = Self.smallCase
    nativeBatchNorm.model = .preactResNet18
    nativeBatchNorm.imageSize = 8
    nativeBatchNorm.batchSize = 2
    nativeBatchNorm.attackSteps = 1
    nativeBatchNorm.evalBatchNorm = .native
    #expect(nativeBatchNorm.tag.contains(" bn-native") && nativeBatchNorm.plain.evalBatchNorm == .cudnn)
    for c in [flat, channelsLast, nativeBatchNorm] {
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

  @Test func trainingWithGraphsNeedsCUDAAndAStepSchedule() throws {
    var c = TrainingConfiguration()
    c.cudaGraphs = true
    let onCPU = #expect(throws: (any Error).self) { try c.validate() }
    #expect("\(onCPU!)".contains("--cuda-graphs") && "\(onCPU!)".contains("--device cuda"))
    c.device = "cuda"
    c.schedule = .cosine(base: 0.1, epochs: 10, minimum: 0)
    let cosine = #expect(throws: (any Error).self) { try c.validate() }
    #expect("\(cosine!)".contains("--cuda-graphs") && "\(cosine!)".contains("multistep"))
    c.schedule = .multiStep(base: 0.1, milestones: [100, 150], gamma: 0.1)
    try c.validate()
    #expect(LearningRateSchedule.constant(0.1).isStepwiseConstant)
    #expect(!LearningRateSchedule.oneCycle(maximum: 0.1, epochs: 10).isStepwiseConstant)
  }

  @Test func configurationsWithoutTheGraphsKeyStillLoad() throws {
    var c = TrainingConfiguration()
    c.cudaGraphs = nil
    let data = try JSONEncoder().encode(c)
    #expect(!String(decoding: data, as: UTF8.self).contains("cudaGraphs"))
    let decoded = try JSONDecoder().decode(TrainingConfiguration.self, from: data)
    #expect(decoded.cudaGraphs == nil && decoded == c)
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
