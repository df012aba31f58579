import Foundation
import RobustTraining
import Torch

/// One configuration of `StepBenchmark.training`.
public struct BenchmarkCase: Sendable, Equatable {
  public var model: ModelArchitecture
  /// A TorchScript file timed in place of `model`'s native network (`model` gives the input shape).
  public var modelFile: String?
  public var method: TrainingMethod
  public var agr: Bool
  public var reconstructionPath: ReconstructionPath
  public var batchSize: Int
  public var precision: Precision
  public var channelsLast: Bool
  public var attackSteps: Int
  /// Replay the step from a CUDA graph (`GraphedTrainingStep`).
  public var cudaGraphs: Bool
  /// Side of the synthetic images (nil: the model's usual 32, or 28 for SmallCNN). Small images leave
  /// mostly the framework's own per-operation cost, e.g. to compare host overheads on a CPU.
  public var imageSize: Int?
  /// AWP on top of the method (a proxy model of the same family).
  public var awp: Bool

  public init(model: ModelArchitecture, method: TrainingMethod, agr: Bool, reconstructionPath: ReconstructionPath = .flat,
              batchSize: Int, precision: Precision = .fp32, channelsLast: Bool = false, attackSteps: Int = 10,
              cudaGraphs: Bool = false, imageSize: Int? = nil, awp: Bool = false, modelFile: String? = nil)
  {
    self.modelFile = modelFile
    self.awp = awp
    self.model = model
    self.method = method
    self.agr = agr
    self.reconstructionPath = reconstructionPath
    self.batchSize = batchSize
    self.precision = precision
    self.channelsLast = channelsLast
    self.attackSteps = attackSteps
    self.cudaGraphs = cudaGraphs
    self.imageSize = imageSize
  }

  /// The training configuration the case times: the paper's CIFAR-10 recipe (`TrainingPreset.cifar10`, so
  /// MART repeats its passes as the authors' code does) with the case's model, method, AGR (from the first
  /// step), AGR path, attack steps, batch size, precision, memory format, CUDA graphs and AWP.
  public var configuration: TrainingConfiguration {
    var c = TrainingPreset.cifar10.configuration
    c.model = model
    c.method = method
    c.agr = agr
    c.agrStartEpoch = 1
    c.agrPath = reconstructionPath
    c.perturbation.steps = attackSteps
    c.batchSize = batchSize
    c.precision = precision
    c.channelsLast = channelsLast
    c.cudaGraphs = cudaGraphs ? true : nil
    c.awp = awp ? true : nil
    return c
  }

  /// The configuration in the words of shared/bench/torch_reference.py, e.g. "preact18 at+agr/flat bs=128 fp32".
  public var tag: String {
    "\(StepBenchmark.modelName(model, file: modelFile)) \(method.rawValue)\(awp ? "+awp" : "")\(agr ? "+agr/\(reconstructionPath.rawValue)" : "") bs=\(batchSize) "
      + "\(precision.rawValue)\(channelsLast ? " channels_last" : "")"
      + "\(cudaGraphs ? " cuda-graphs" : "")"
      + (imageSize.map { " img=\($0)" } ?? "")
  }

  /// The same step without any of the fast paths: per-tensor AGR, contiguous memory, no graphs.
  public var plain: BenchmarkCase {
    var c = self
    c.reconstructionPath = .perTensor
    c.channelsLast = false
    c.cudaGraphs = false
    return c
  }

  /// Untimed steps needed before a step is the steady-state one: with CUDA graphs the first update runs
  /// plain (it creates the momentum buffers) and the next records the graph.
  public var minimumWarmup: Int { cudaGraphs ? 2 : 0 }

  /// Whether any fast path is on (what `StepBenchmark.trajectoryCheck` compares against `plain`).
  public var usesFastPath: Bool {
    (agr && reconstructionPath == .flat) || channelsLast || cudaGraphs
  }
}

/// One timing.
public struct BenchmarkResult: Codable, Sendable {
  /// "train" (one step: PGD-k attack, forward passes, method loss, backward, AGR, SGD) or "eval" (one batch of PGD-k evaluation).
  public var kind: String
  public var tag: String
  public var model: String
  public var method: String?
  public var agr: Bool?
  public var agrPath: String?
  public var batchSize: Int
  public var precision: String
  public var channelsLast: Bool
  public var attackSteps: Int
  public var cudaGraphs: Bool?
  public var device: String
  public var warmup: Int
  public var steps: Int
  /// Milliseconds per training step (or per evaluated batch).
  public var msPerStep: Double
  public var imagesPerSecond: Double
  /// Projected seconds for 50,000 training images (train) or 10,000 test images (eval).
  public var secondsPerEpoch: Double
  /// Peak GPU memory allocated by tensors during warm-up and timing (CUDA only).
  public var peakMemoryMiB: Double?
  /// The last step's loss (train) or robust accuracy (eval), to show the computation was real.
  public var check: Double
  /// The comparison with the plain path, when one was asked for (`--check-steps`).
  public var trajectoryCheck: TrajectoryCheck?

  /// The line the bench prints, shaped like the PyTorch peer's ("torch-eager <tag>: ...").
  public var line: String {
    let unit = kind == "eval" ? "ms/batch" : "ms/step"
    let epoch = kind == "eval" ? "s/10k" : "s/epoch"
    let memory = peakMemoryMiB.map { String(format: " peak %.0f MiB", $0) } ?? ""
    return String(format: "agr-swift %@: %.1f %@ %.0f img/s %.1f %@", tag, msPerStep, unit, imagesPerSecond,
                  secondsPerEpoch, epoch) + memory
  }
}
