import Torch

/// A `TrainingStep` replayed from a CUDA graph: the whole step (PGD attack, forward and backward
/// passes, AGR, SGD update) is recorded once and then launched as one unit, which removes the host's
/// launch cost of its thousands of small kernels. Same mathematics as the step it wraps.
///
/// - If a graph cannot be recorded, `ifRecordingFails` decides: throw, or take plain steps from then on.
/// - Batches are copied into the graph's input tensors; a batch of another shape (the last, partial
///   batch of an epoch) runs the plain step.
/// - The learning rate and the AGR switch are frozen into a graph: a step with another rate or switch
///   records a new graph (once per milestone with a step schedule) and frees the old one.
/// - Recording is preceded by `warmupSteps` untimed steps on the graph's stream (libraries create
///   per-stream state lazily); parameters, BatchNorm buffers, momentum buffers and the device's random
///   number generator are restored afterwards, so warm-up leaves no trace. A replay draws the same
///   random numbers as the plain step would have (the graph advances the generator by its whole use).
/// - The first update of an optimizer creates its state, e.g. SGD's momentum buffers (a different
///   computation): it runs as a plain step, as do steps with `measure` (diagnostics, rare).
/// - The returned outputs are the graph's own tensors, overwritten by the next replay: take copies
///   (`Output.copied()`) of what must outlive it.
public final class GraphedTrainingStep {
  public let step: TrainingStep
  public let warmupSteps: Int
  public let ifRecordingFails: GraphRecordingFailure
  /// Graphs recorded so far (a new one per learning rate or AGR switch), for progress output and tests.
  public private(set) var captureCount = 0
  /// Steps that ran without the graph (first update, diagnostics, batches of another shape).
  public private(set) var plainSteps = 0
  /// Why recording failed, after which every step runs plain (nil: graphs in use).
  public private(set) var disabledReason: String?

  private struct Key: Equatable {
    let agr: Bool
    let learningRate: Double
  }
  private var captured: (key: Key, graph: CUDAGraph, output: TrainingStep.Output)?
  private var inputs: (images: Tensor, labels: Tensor)?

  /// One warm-up step before each recording (PyTorch's examples use a few; one creates what is lazily made).
  public static let defaultWarmupSteps = 1

  public init(step: TrainingStep, warmupSteps: Int = defaultWarmupSteps,
              ifRecordingFails: GraphRecordingFailure = .runPlain())
  {
    self.step = step
    self.ifRecordingFails = ifRecordingFails
    self.warmupSteps = warmupSteps
  }

  public func callAsFunction(images: Tensor, labels: Tensor, agr: Bool, measure: Bool = false) throws
    -> TrainingStep.Output
  {
    guard case .cuda(let device) = images.device else {
      throw TorchError("CUDA graphs need a CUDA device; the batch is on \(images.device)")
    }
    let optimizer = step.optimizer
    if !optimizer.replaysFromGraphs, disabledReason == nil {
      disabledReason = "\(type(of: optimizer))'s steps change host values every step and are not recorded"
      if case .runPlain(let report) = ifRecordingFails { report?(disabledReason!) } else { throw TorchError(disabledReason!) }
    }
    if optimizer.nextStepCreatesState || measure {
      plainSteps += 1
      return try step(images: images, labels: labels, agr: agr, measure: measure)
    }
    let (staticImages, staticLabels) = try inputs ?? (images.clone(), labels.clone())
    guard staticImages.shape == images.shape, staticImages.strides == images.strides,
      staticLabels.shape == labels.shape
    else {
      plainSteps += 1
      return try step(images: images, labels: labels, agr: agr, measure: false)
    }
    inputs = (staticImages, staticLabels)
    try staticImages.copy_(images)
    try staticLabels.copy_(labels)
    let key = Key(agr: agr, learningRate: optimizer.learningRate)
    if captured?.key != key {
      if captured != nil {
        try CUDA.synchronize(device)  // the old graph's last replay must finish before it is freed
        captured = nil  // frees the old graph and its memory pool before recording the next
      }
      if disabledReason != nil {
        plainSteps += 1
        return try step(images: images, labels: labels, agr: agr)
      }
      let snapshot = try TrainingSnapshot(step, device: images.device)
      do {
        let graph = try CUDAGraph(device: device)
        try graph.onSideStream {
          for _ in 0..<warmupSteps { _ = try step(images: staticImages, labels: staticLabels, agr: agr) }
        }
        try snapshot.restore()
        let output = try graph.capture { try step(images: staticImages, labels: staticLabels, agr: agr) }
        captured = (key, graph, output)
        captureCount += 1
      } catch {
        try snapshot.restore()
        guard case .runPlain(let report) = ifRecordingFails else {
          throw TorchError("the step could not be recorded as a CUDA graph: \(error)")
        }
        disabledReason = "\(error)"
        report?("\(error)")
        plainSteps += 1
        return try step(images: images, labels: labels, agr: agr)
      }
    }
    try captured!.graph.replay()
    return captured!.output
  }
}

/// Copies of a training step's state (parameters, BatchNorm buffers, the optimizer's state, and the state of
/// `device`'s default random number generator), restored in place: a recorded graph holds the addresses
/// of these tensors, so they are never replaced.
struct TrainingSnapshot {
  let targets: [Tensor]
  let saved: [Tensor]
  let generator: Generator
  let generatorState: Tensor

  init(_ step: TrainingStep, device: Device) throws {
    generator = try Generator.defaultGenerator(for: device)
    generatorState = try generator.state()
    let targets = step.optimizer.parameters + step.model.namedBuffers().map(\.tensor)
      + step.optimizer.stateTensors
    self.targets = targets
    saved = try Autograd.withNoGrad { try targets.map { try $0.detached().clone() } }
  }

  func restore() throws {
    try Autograd.withNoGrad { try Foreach.copy_(targets, from: saved) }
    try generator.setState(generatorState)
  }
}

extension TrainingStep.Output {
  /// Copies of every tensor (for outputs of a graph, which the next replay overwrites).
  public func copied() throws -> TrainingStep.Output {
    TrainingStep.Output(
      loss: try loss.clone(), cleanCorrect: try cleanCorrect?.clone(), adversarialCorrect: try adversarialCorrect?.clone(),
      statistics: try statistics?.copied(), conflicts: try conflicts?.clone(), gradientNorm: try gradientNorm.clone())
  }
}

extension GradientReconstruction.Statistics {
  func copied() throws -> Self {
    Self(cosine: try cosine.clone(), cleanNorm: try cleanNorm.clone(), adversarialNorm: try adversarialNorm.clone())
  }
}
