import Foundation
import Testing

@testable import RobustTraining

/// What of the CUDA-graph training path can be checked without a GPU: the warm-up before a recording
/// leaves no trace (weights, BatchNorm and momentum buffers, random numbers), outputs can be copied out
/// of a graph's tensors, and clear errors where graphs cannot run.
@Suite(.serialized) struct CUDAGraphStepTests {
  /// A SmallCNN AT step with AGR (flat path; SGD lr 0.1, momentum 0.9, weight decay 5e-4; PGD-2 at 8/255) and
  /// a batch of 8 uniform images with random labels, drawn from the global generator in that order.
  func smallStep() throws -> (step: TrainingStep, images: Tensor, labels: Tensor) {
    let model = try ModelArchitecture.smallCNN.make(classCount: 10, inputChannels: 1, imageSize: 28)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
    let step = TrainingStep(
      model: model, optimizer: optimizer, method: .at,
      perturbation: TrainingPerturbation(epsilon: 8.0 / 255, stepSize: 2.0 / 255, steps: 2),
      reconstruction: GradientReconstruction(clip: 0.1))
    step.reconstructionPath = .flat
    return (step, try Tensor.rand([8, 1, 28, 28]), try Tensor.randint(0, 10, [8]))
  }

  func state(_ step: TrainingStep) throws -> [Tensor] {
    try (step.optimizer.parameters + step.model.namedBuffers().map(\.tensor)
      + step.optimizer.stateTensors).map { try $0.clone() }
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
      let (step, images, labels) = try smallStep()
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
    let (step, images, labels) = try smallStep()
    _ = try step(images: images, labels: labels, agr: true)
    let before = try state(step)
    _ = try step(images: images, labels: labels, agr: true)
    #expect(try !identical(before, try state(step)))
  }

  @Test func copiedOutputsAreIndependentOfTheOriginals() throws {
    Torch.manualSeed(1)
    let (step, images, labels) = try smallStep()
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
    let (step, images, labels) = try smallStep()
    let graphed = GraphedTrainingStep(step: step)
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

  @Test func trainingWithGraphsNeedsCUDAAndAStepSchedule() throws {
    var c = TrainingConfiguration()
    c.cudaGraphs = true
    let onCPU = #expect(throws: (any Error).self) { try c.validate() }
    #expect((onCPU as? ConfigurationError)?.key == "cuda_graphs" && "\(onCPU!)".contains("needs a CUDA device"))
    c.device = .cuda(0)
    c.schedule = .cosine(base: 0.1, epochs: 10, minimum: 0)
    let cosine = #expect(throws: (any Error).self) { try c.validate() }
    #expect((cosine as? ConfigurationError)?.key == "cuda_graphs" && "\(cosine!)".contains("multistep"))
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
