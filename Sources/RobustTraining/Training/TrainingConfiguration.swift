import Foundation
import Torch

/// Numeric precision of training.
public enum Precision: String, Codable, CaseIterable, Sendable {
  case fp32
  /// bf16 autocast for the forward passes (matmuls and convolutions), fp32 weights and updates.
  case bf16
}

/// Everything that defines a training run; written to `config.json` in the run directory.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
  public var dataset: String = "fashion-mnist"
  public var dataDirectory: String? = nil
  /// Use only the first N training images (nil: all).
  public var trainSubset: Int? = nil
  /// Evaluate on the first N test images each epoch (nil: all).
  public var testSubset: Int? = nil
  public var model: ModelArchitecture = .smallCNN
  public var normalization: InputNormalization? = nil
  public var method: TrainingMethod = .at
  /// AGR on top of the method, from epoch `agrStartEpoch` on (1-based, as the paper counts: 155 of 200).
  public var agr: Bool = true
  public var agrStartEpoch: Int = 1
  public var agrClip: Double = 0.1
  /// Run the clean forward pass in train mode for the baselines too (the AGR authors' code does:
  /// BatchNorm statistics then see clean and adversarial batches, as with AGR).
  public var cleanPassInTrainMode: Bool = true
  public var beta: Double = 6
  public var epochs: Int = 10
  public var batchSize: Int = 128
  public var learningRate: Double = 0.1
  public var schedule: LearningRateSchedule = .constant(0.1)
  public var momentum: Double = 0.9
  public var weightDecay: Double = 5e-4
  public var nesterov: Bool = false
  public var perturbation = TrainingPerturbation()
  /// PGD steps of the per-epoch robust evaluation (PGD-20 in the papers).
  public var evalSteps: Int = 20
  public var augment: Bool = false
  public var seed: UInt64 = 0
  public var device: String = "cpu"
  public var precision: Precision = .fp32
  /// channels-last memory format for the model and batches; absent: on for CUDA, off on the CPU
  /// (`usesChannelsLast`). On an H100 the fp32 PreAct-ResNet-18 step took 46.3 instead of 58.2 ms eager and
  /// 43.6 instead of 50.7 ms from a CUDA graph: cuDNN's Hopper kernels are NHWC, and a contiguous model pays
  /// layout conversions around each convolution (~11 ms of a 50 ms step in the profile).
  public var channelsLast: Bool? = nil

  /// Whether training runs channels-last: `channelsLast`, else on for CUDA devices.
  public var usesChannelsLast: Bool {
    channelsLast ?? ((try? Device(parsing: device))?.isCUDA ?? false)
  }
  /// Replay training steps from CUDA graphs (`GraphedTrainingStep`); optional so that older run
  /// configurations still load (absent: off).
  public var cudaGraphs: Bool? = nil
  /// How AGR's arithmetic runs (the same numbers either way); absent: the device's preferred path
  /// (`ReconstructionPath.preferred(on:)`: flat on a GPU, per-tensor on the CPU).
  public var agrPath: ReconstructionPath? = nil
  /// The kernels of the batch norms in eval mode (the attack's forward passes, the test evaluation) on CUDA;
  /// absent (older runs): cuDNN's.
  public var evalBatchNorm: BatchNormKernels? = nil

  /// The AGR path training takes: `agrPath`, else the device's preferred one.
  public var reconstructionPath: ReconstructionPath {
    agrPath ?? .preferred(on: (try? Device(parsing: device)) ?? .cpu)
  }
  /// Record per-tensor gradient cosines and norms every N iterations (0: never).
  public var diagnosticsEvery: Int = 20
  /// Read step metrics back from the device every N steps (host synchronisation points).
  public var logEvery: Int = 10

  public init() {}

  public func validate() throws {
    func bad(_ flag: String, _ message: String) -> TorchError { TorchError("\(flag): \(message)") }
    guard epochs > 0 else { throw bad("--epochs", "must be positive, got \(epochs)") }
    guard batchSize > 0 else { throw bad("--batch-size", "must be positive, got \(batchSize)") }
    guard learningRate >= 0 else { throw bad("--lr", "must be >= 0, got \(learningRate)") }
    guard weightDecay >= 0 else { throw bad("--weight-decay", "must be >= 0, got \(weightDecay)") }
    guard agrClip > 0 else { throw bad("--agr-clip", "must be positive, got \(agrClip)") }
    guard agrStartEpoch >= 1 else { throw bad("--agr-start-epoch", "is 1-based and must be >= 1, got \(agrStartEpoch)") }
    guard perturbation.epsilon >= 0, perturbation.epsilon <= 1 else {
      throw bad("--eps", "must lie in [0, 1], got \(perturbation.epsilon)")
    }
    guard perturbation.steps >= 0 else { throw bad("--attack-steps", "must be >= 0") }
    guard evalSteps >= 0 else { throw bad("--eval-steps", "must be >= 0") }
    guard logEvery > 0 else { throw bad("--log-every", "must be positive") }
    guard diagnosticsEvery >= 0 else { throw bad("--diagnostics-every", "must be >= 0") }
    if let n = trainSubset, n <= 0 { throw bad("--train-subset", "must be positive") }
    if let n = testSubset, n <= 0 { throw bad("--test-subset", "must be positive") }
    let parsedDevice = try Device(parsing: device)
    if cudaGraphs == true {
      guard parsedDevice.isCUDA else { throw bad("--cuda-graphs", "needs --device cuda, got \(device)") }
      guard schedule.isStepwiseConstant else {
        throw bad("--cuda-graphs", "a graph freezes the learning rate; use a multistep or constant schedule, not \(schedule)")
      }
    }
  }

  /// Whether AGR reconstructs the gradient in `epoch` (0-based index; AGR starts at 1-based `agrStartEpoch`).
  public func agrActive(inEpoch epoch: Int) -> Bool { agr && method.isAdversarial && epoch + 1 >= agrStartEpoch }
}
