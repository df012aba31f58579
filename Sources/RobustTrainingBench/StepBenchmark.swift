import Foundation
import RobustTraining
import Torch

/// Times complete training steps and PGD evaluation on synthetic data (uniform images in [0, 1],
/// uniform labels): speed does not depend on pixel values. The step is the trainer's for the case's
/// configuration (`BenchmarkCase.configuration`: the paper's CIFAR-10 recipe, SGD lr 0.1, momentum 0.9,
/// weight decay 5e-4, attack eps 8/255, step 2/255, random start, as shared/bench/torch_reference.py).
/// On CUDA the timed region is bracketed by device synchronisations.
public enum StepBenchmark {
  static func inputShape(_ model: ModelArchitecture, imageSize: Int? = nil) -> [Int] {
    let shape = model.standardInputShape
    return imageSize.map { [shape[0], $0, $0] } ?? shape
  }

  static func synchronize(_ device: Device) throws {
    if case .cuda(let index) = device { try CUDA.synchronize(index) }
  }

  /// "smallcnn", or "smallcnn/torchscript" for a TorchScript file timed with smallcnn's input shape.
  static func modelName(_ architecture: ModelArchitecture, file: String?) -> String {
    architecture.rawValue + (file == nil ? "" : "/torchscript")
  }

  static func makeModel(_ architecture: ModelArchitecture, file: String? = nil, device: Device, channelsLast: Bool,
                        imageSize: Int? = nil) throws -> any Classifier
  {
    let source: ModelSource = file.map { .scripted(path: $0, checksum: nil) } ?? .builtIn(architecture)
    let model = try source.make(classCount: 10, inputShape: inputShape(architecture, imageSize: imageSize))
    try model.move(to: device, memoryFormat: channelsLast ? .channelsLast : nil)
    return model
  }

  static func batch(_ architecture: ModelArchitecture, size: Int, device: Device, channelsLast: Bool,
                    imageSize: Int? = nil) throws -> (Tensor, Tensor)
  {
    var images = try Tensor.rand([size] + inputShape(architecture, imageSize: imageSize), device: device)
    if channelsLast { images = try images.contiguous(.channelsLast) }
    return (images, try Tensor.randint(0, 10, [size], device: device))
  }

  /// Runs `body` `warmup` times, then `steps` timed times; seconds per timed run and the peak memory.
  static func time(device: Device, warmup: Int, steps: Int, _ body: () throws -> Void) throws -> (Double, Double?) {
    if case .cuda(let index) = device {
      try CUDA.synchronize(index)
      try CUDA.resetPeakMemory(index)
    }
    for _ in 0..<warmup { try body() }
    try synchronize(device)
    let start = DispatchTime.now().uptimeNanoseconds
    for _ in 0..<steps { try body() }
    try synchronize(device)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 / Double(steps)
    var peak: Double?
    if case .cuda(let index) = device { peak = Double(try CUDA.memoryStats(index).peakAllocatedBytes) / 1_048_576 }
    return (seconds, peak)
  }

  /// The host cost of one dispatched operation, in microseconds: `a + b` on 1-element tensors of `device`,
  /// `count` times, best of `rounds` (after a warm-up). On a GPU that is dispatch plus kernel launch, the
  /// cost that bounds a step whose kernels are short; `count_torch_ops.py --dispatch-overhead` times PyTorch's.
  public static func dispatchOverhead(device: Device, count: Int = 20_000, rounds: Int = 3) throws -> Double {
    let a = try Tensor.ones([1], device: device)
    let b = try Tensor.ones([1], device: device)
    var best = Double.infinity
    for round in 0...rounds {
      try synchronize(device)
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<count { _ = try a + b }
      try synchronize(device)
      // round 0 is the warm-up
      if round > 0 { best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(count)) }
    }
    return best
  }

  /// A configuration made ready to step: a fresh model seeded with `seed`, its SGD and training step
  /// (replayed from a CUDA graph for `cudaGraphs` cases, failing rather than stepping plain), one batch.
  struct Fixture {
    let step: TrainingStep
    let graphed: GraphedTrainingStep?
    let images: Tensor
    let labels: Tensor
    let agr: Bool

    init(_ c: BenchmarkCase, device: Device, seed: UInt64) throws {
      Torch.manualSeed(seed)
      step = try makeStep(c, device: device)
      graphed = c.cudaGraphs ? GraphedTrainingStep(step: step, ifRecordingFails: .fail) : nil
      (images, labels) = try batch(c.model, size: c.batchSize, device: device, channelsLast: c.channelsLast,
                                   imageSize: c.imageSize)
      agr = c.agr
    }

    func callAsFunction() throws -> TrainingStep.Output {
      try graphed.map { try $0(images: images, labels: labels, agr: agr) } ?? step(images: images, labels: labels, agr: agr)
    }
  }

  /// A fresh model (seeded by the caller), its optimizer and the training step of the case's configuration,
  /// assembled as the trainer assembles its own (`TrainingStep(configuration:model:optimizer:awpProxy:)`).
  static func makeStep(_ c: BenchmarkCase, device: Device) throws -> TrainingStep {
    let configuration = c.configuration
    let model = try makeModel(c.model, file: c.modelFile, device: device, channelsLast: c.channelsLast, imageSize: c.imageSize)
    let optimizer = try configuration.optimizerKind.make(parameters: model.parameters, configuration: configuration)
    return try TrainingStep(configuration: configuration, model: model, optimizer: optimizer) {
      try makeModel(c.model, file: c.modelFile, device: device, channelsLast: c.channelsLast, imageSize: c.imageSize)
    }
  }

  /// Times `steps` training steps after `warmup` untimed ones, from a fresh model seeded with `seed`.
  public static func training(_ c: BenchmarkCase, steps: Int, warmup: Int, device: Device, seed: UInt64 = 0) throws
    -> BenchmarkResult
  {
    guard steps > 0, warmup >= 0, c.batchSize > 0, c.attackSteps >= 0 else {
      throw TorchError("bench: steps, batch size must be positive; warm-up, attack steps non-negative")
    }
    guard warmup >= c.minimumWarmup else {
      throw TorchError("bench: CUDA graphs need --warmup >= 2 (the first update runs plain, the next records the graph)")
    }
    let fixture = try Fixture(c, device: device, seed: seed)
    var last: TrainingStep.Output?
    let (seconds, peak) = try time(device: device, warmup: warmup, steps: steps) { last = try fixture() }
    return BenchmarkResult(
      kind: "train", tag: c.tag, model: modelName(c.model, file: c.modelFile), method: c.method.rawValue, agr: c.agr,
      agrPath: c.agr ? c.reconstructionPath.rawValue : nil, batchSize: c.batchSize, precision: c.precision.rawValue,
      channelsLast: c.channelsLast, attackSteps: c.attackSteps, cudaGraphs: c.cudaGraphs, device: "\(device)",
      warmup: warmup, steps: steps,
      msPerStep: seconds * 1e3, imagesPerSecond: Double(c.batchSize) / seconds,
      secondsPerEpoch: 50_000 / Double(c.batchSize) * seconds, peakMemoryMiB: peak, check: try last!.loss.item())
  }

  /// Times the trainer's per-epoch test evaluation of one batch (`Trainer.evaluate`: clean forward pass,
  /// PGD-`attackSteps` with one random start and best-iterate tracking, forward pass on its output), in
  /// eval mode, under autocast for bf16; with `cudaGraphs` replayed from a CUDA graph as `--cuda-graphs` does.
  public static func evaluation(model architecture: ModelArchitecture, modelFile: String? = nil, batchSize: Int,
                                precision: Precision = .fp32,
                                channelsLast: Bool = false, attackSteps: Int = 20, cudaGraphs: Bool = false,
                                steps: Int, warmup: Int, device: Device,
                                seed: UInt64 = 0) throws -> BenchmarkResult
  {
    guard steps > 0, warmup >= 0, batchSize > 0, attackSteps > 0 else {
      throw TorchError("bench: steps, batch size and attack steps must be positive")
    }
    guard !cudaGraphs || warmup >= 1 else { throw TorchError("bench: CUDA graphs need --warmup >= 1 (the recording)") }
    Torch.manualSeed(seed)
    let model = try makeModel(architecture, file: modelFile, device: device, channelsLast: channelsLast)
    model.eval()
    let attack = try PGD(threatModel: try .lInf(8.0 / 255), steps: attackSteps, stepSize: 2.0 / 255, seed: seed)
    let (images, labels) = try batch(architecture, size: batchSize, device: device, channelsLast: channelsLast)
    let inputs = [images, labels, try attack.startNoise(like: images)!]
    let evaluate = Trainer.batchEvaluation(model: model, attack: attack, precision: precision, device: device)
    var graphed: GraphedFunction?
    if cudaGraphs {
      guard case .cuda(let index) = device else { throw TorchError("bench: CUDA graphs need a CUDA device") }
      graphed = GraphedFunction(device: index, ifRecordingFails: .fail, evaluate)
    }
    var sums: Tensor?
    let (seconds, peak) = try time(device: device, warmup: warmup, steps: steps) {
      sums = try (graphed.map { try $0(inputs) } ?? evaluate(inputs))[0]
    }
    let name = modelName(architecture, file: modelFile)
    let tag = "\(name) pgd\(attackSteps)-eval bs=\(batchSize) \(precision.rawValue)"
      + (channelsLast ? " channels_last" : "")
      + (cudaGraphs ? " cuda-graphs" : "")
    return BenchmarkResult(
      kind: "eval", tag: tag, model: name, method: nil, agr: nil, agrPath: nil, batchSize: batchSize,
      precision: precision.rawValue, channelsLast: channelsLast, attackSteps: attackSteps, cudaGraphs: cudaGraphs,
      device: "\(device)", warmup: warmup, steps: steps, msPerStep: seconds * 1e3,
      imagesPerSecond: Double(batchSize) / seconds, secondsPerEpoch: 10_000 / Double(batchSize) * seconds,
      peakMemoryMiB: peak, check: try sums!.toArray(Double.self)[3] / Double(batchSize))
  }
}

extension StepBenchmark {
  /// The ATen operations of one training step of `c` after `warmup` steps (the first update differs:
  /// it creates the momentum buffers). Not for CUDA-graph cases: a replay dispatches no operations.
  public static func operationCensus(_ c: BenchmarkCase, warmup: Int = 2, device: Device, seed: UInt64 = 0) throws
    -> OperationCensus
  {
    guard !c.cudaGraphs else { throw TorchError("bench: a CUDA graph replay dispatches no ATen operations to count") }
    let step = try Fixture(c, device: device, seed: seed)
    for _ in 0..<warmup { _ = try step() }
    return try OperationCensus.count { try step() }.census
  }
}

extension StepBenchmark {
  /// Saves a profiler trace (Chrome trace JSON; GPU kernels too on CUDA) of `steps` training steps, taken after
  /// `warmup` untimed ones from a fresh model seeded with `seed`; the device is synchronised before the trace
  /// ends. `scripts/trace_summary.py` reads it (and PyTorch eager's, `count_torch_ops.py --trace`).
  public static func trace(_ c: BenchmarkCase, steps: Int = 2, warmup: Int = 3, device: Device, seed: UInt64 = 0,
                           to path: String) throws
  {
    guard steps > 0, warmup >= c.minimumWarmup else {
      throw TorchError("bench: a trace needs steps > 0 and, with CUDA graphs, warm-up >= 2")
    }
    let step = try Fixture(c, device: device, seed: seed)
    for _ in 0..<warmup { _ = try step() }
    try synchronize(device)
    try ProfilerTrace.record(to: path, cuda: device.isCUDA) {
      for _ in 0..<steps { _ = try step() }
      try synchronize(device)
    }
  }

  /// A file name for a configuration's tag: "preact18 at+agr/flat bs=128 fp32" -> "preact18_at+agr-flat_bs=128_fp32".
  public static func fileName(tag: String) -> String {
    tag.replacingOccurrences(of: "/", with: "-").replacingOccurrences(of: " ", with: "_")
  }
}

extension OperationCensus {
  /// "# ops <tag>: 1234 kernel ops, 0 host reads per step (4000 ATen calls)", as count_torch_ops.py prints.
  public func line(tag: String) -> String {
    "# ops \(tag): \(kernels) kernel ops, \(hostReads) host reads per step (\(dispatched) ATen calls)"
  }
}
