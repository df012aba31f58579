import Foundation
import Torch

/// The correctness guard of the fast paths (flat AGR, channels-last, CUDA graphs): the same training
/// steps run twice from the same seed, model and batch, once as configured and once plain (per-tensor
/// AGR, contiguous memory, no graphs), in IEEE fp32 (TF32 off on CUDA); the per-step losses must
/// agree to `tolerance` (relative).
public struct TrajectoryCheck: Codable, Sendable {
  public var tag: String
  public var plainLosses: [Double]
  public var fastLosses: [Double]
  public var tolerance: Double

  public var maxRelativeDifference: Double {
    zip(plainLosses, fastLosses).map { abs($0 - $1) / Swift.max(abs($0), 1e-12) }.max() ?? 0
  }
  public var passed: Bool { maxRelativeDifference <= tolerance && fastLosses.allSatisfy(\.isFinite) }

  public var line: String {
    let losses = { (v: [Double]) in v.map { String(format: "%.6f", $0) }.joined(separator: " ") }
    return "# check \(tag) vs plain path: losses [\(losses(fastLosses))] vs [\(losses(plainLosses))], "
      + String(format: "max relative difference %.2e (tolerance %.0e): ", maxRelativeDifference, tolerance)
      + (passed ? "ok" : "FAILED")
  }
}

extension StepBenchmark {
  /// Runs `steps` training steps of `c` and of `c.plain` and compares their losses (see `TrajectoryCheck`).
  public static func trajectoryCheck(_ c: BenchmarkCase, steps: Int, device: Device, seed: UInt64 = 0,
                                     tolerance: Double = 1e-3) throws -> TrajectoryCheck
  {
    guard c.precision == .fp32 else { throw TorchError("check: the plain and fast paths are compared in fp32, not bf16") }
    let needed = c.minimumWarmup + 1  // with CUDA graphs the first two steps are not replays
    guard steps >= needed else {
      throw TorchError("check: at least \(needed) steps (with CUDA graphs the first two are not replays)")
    }
    var savedTF32: (convolutions: Bool, matmuls: Bool)?
    if device.isCUDA {
      savedTF32 = try CUDA.tf32()
      try CUDA.setTF32(convolutions: false, matmuls: false)
    }
    defer { if let savedTF32 { try? CUDA.setTF32(convolutions: savedTF32.convolutions, matmuls: savedTF32.matmuls) } }
    let plain = try losses(c.plain, steps: steps, device: device, seed: seed)
    let fast = try losses(c, steps: steps, device: device, seed: seed)
    return TrajectoryCheck(tag: c.tag, plainLosses: plain, fastLosses: fast, tolerance: tolerance)
  }

  /// The per-step losses of `steps` steps from a fresh seeded model on one synthetic batch.
  static func losses(_ c: BenchmarkCase, steps: Int, device: Device, seed: UInt64) throws -> [Double] {
    let step = try Fixture(c, device: device, seed: seed)
    let losses = try (0..<steps).map { _ in try step().loss.clone() }
    return try Tensor.stack(losses).toArray(Double.self)
  }
}
