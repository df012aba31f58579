import Foundation

/// One epoch's results, as written to `metrics.jsonl` / `metrics.csv`.
public struct EpochRecord: Codable, Equatable, Sendable {
  /// 1-based epoch number.
  public var epoch: Int
  public var learningRate: Double
  public var agrActive: Bool
  public var trainLoss: Double
  public var trainCleanAccuracy: Double?
  public var trainAdversarialAccuracy: Double?
  public var testCleanLoss: Double
  public var testCleanAccuracy: Double
  public var testRobustLoss: Double?
  public var testRobustAccuracy: Double?
  /// Share of (tensor, step) pairs with cs <= 0 while AGR was active, overall and per layer kind.
  public var gopRate: Double?
  public var gopRateByKind: [String: Double]?
  /// The same test evaluation of the weight average, when the run averages weights.
  public var averagedTestCleanAccuracy: Double? = nil
  public var averagedTestRobustAccuracy: Double? = nil
  public var seconds: Double
  public var imagesPerSecond: Double
  /// The catastrophic-overfitting check's PGD accuracy on the held training batch, and whether this epoch was
  /// flagged (`OverfitCheck`); absent when the run does not check.
  public var overfitCheckAccuracy: Double? = nil
  /// The check's training-attack accuracy on the same batch, when the gap rule is on (`overfitGap`).
  public var overfitCheckTrainingAttackAccuracy: Double? = nil
  /// The process's peak memory so far, in bytes (`PeakMemory`: CUDA's max allocated, or the CPU's resident set).
  public var peakMemoryBytes: Double? = nil
  public var catastrophicOverfitting: Bool? = nil

  static let csvColumns = [
    "epoch", "learning_rate", "agr_active", "train_loss", "train_clean_accuracy", "train_adversarial_accuracy",
    "test_clean_loss", "test_clean_accuracy", "test_robust_loss", "test_robust_accuracy", "gop_rate",
    "gop_rate_conv", "gop_rate_bn", "gop_rate_linear", "seconds", "images_per_second",
    "averaged_test_clean_accuracy", "averaged_test_robust_accuracy", "overfit_check_accuracy",
    "catastrophic_overfitting", "peak_memory_bytes", "overfit_check_training_attack_accuracy",
  ]

  var csvRow: String {
    func f(_ v: Double?) -> String { v.map { String(format: "%.6g", $0) } ?? "" }
    let kinds = ["conv", "bn", "linear"].map { f(gopRateByKind?[$0]) }
    return ([String(epoch), f(learningRate), agrActive ? "1" : "0", f(trainLoss), f(trainCleanAccuracy),
             f(trainAdversarialAccuracy), f(testCleanLoss), f(testCleanAccuracy), f(testRobustLoss),
             f(testRobustAccuracy), f(gopRate)] + kinds + [f(seconds), f(imagesPerSecond), f(averagedTestCleanAccuracy),
                                                           f(averagedTestRobustAccuracy), f(overfitCheckAccuracy),
                                                           catastrophicOverfitting.map { $0 ? "1" : "0" } ?? "", f(peakMemoryBytes),
                                                           f(overfitCheckTrainingAttackAccuracy)]).joined(separator: ",")
  }
}

/// Progress within an epoch, reported every `logEvery` steps.
public struct BatchProgress: Sendable {
  public let epoch: Int  // 1-based
  public let epochs: Int
  public let batch: Int  // batches done in this epoch
  public let batches: Int
  public let loss: Double
  public let cleanAccuracy: Double?
  public let adversarialAccuracy: Double?
  public let imagesPerSecond: Double
  /// Estimated seconds left in the whole run (training steps only).
  public let etaSeconds: Double
  public let learningRate: Double
  public let agrActive: Bool
}

/// One gradient-diagnostics sample: per-tensor cosine and norms at one iteration.
public struct GradientSample: Codable, Sendable {
  public var epoch: Int  // 1-based
  public var iteration: Int  // global, 0-based
  public var agrActive: Bool
  public var cosine: [Double]
  public var cleanNorm: [Double]
  public var adversarialNorm: [Double]
}

/// Names and kinds of the parameter tensors, in the order of every `GradientSample`.
public struct ParameterIndex: Codable, Sendable {
  public var names: [String]
  public var kinds: [LayerKind]
  public var shapes: [[Int]]
}

public enum TrainingError: Error, CustomStringConvertible {
  case nonFinite(epoch: Int, step: Int, what: String)
  case badRunDirectory(String)
  /// Another process holds the run directory's lock (`RunDirectory.lock`), described by what it wrote there.
  case runInUse(path: String, holder: String?)
  /// The run directory holds no finished epoch yet (the run stopped during its first).
  case noCheckpoint(String)
  /// A stop was requested (`StopRequest`); training stopped after step `step` of epoch `epoch` (1-based).
  case interrupted(epoch: Int, step: Int, steps: Int)
  case emptyDataset(String)

  public var description: String {
    switch self {
    case .nonFinite(let epoch, let step, let what):
      return "training stopped: non-finite \(what) at epoch \(epoch), step \(step); the last good checkpoint is kept"
    case .badRunDirectory(let message): return message
    case .runInUse(let path, let holder):
      return "\(path) is in use by another run (\(holder ?? "process unknown")); wait for it to end, or use another run directory"
    case .noCheckpoint(let path): return "\(path) has no checkpoint yet (no epoch finished)"
    case .interrupted(let epoch, let step, let steps):
      return "interrupted at step \(step) of \(steps) of epoch \(epoch); the last checkpoint is the end of epoch \(epoch - 1)"
    case .emptyDataset(let what): return what
    }
  }
}
