import Foundation
import RobustTraining
import Torch

/// The correctness guard of the fast paths (flat AGR, channels-last, CUDA graphs): the same
/// training steps from the same seed, model and batch run as configured and plain (per-tensor AGR, contiguous
/// memory, no graphs, cuDNN batch norm), in IEEE fp32 (TF32 off on CUDA), and the plain path once more.
///
/// The per-step losses must agree "within floating-point noise", measured rather than assumed: the plain
/// path's second run differs from its first wherever the device's kernels are not bitwise reproducible
/// (cuDNN's split-K convolution gradients accumulate with atomics on a GPU), and PGD's sign() turns any such
/// last-bit difference into whole pixels of the perturbation, so two plain runs on an H100 drift apart by
/// ~1e-3 to 1e-2 within five steps. A fast path passes if it stays within `tolerance` of the plain run or within
/// `noiseFactor` times the plain runs' own spread, whichever is larger. On the CPU the two plain runs are
/// bitwise equal, so there `tolerance` alone decides.
public struct TrajectoryCheck: Codable, Sendable {
  public var tag: String
  public var plainLosses: [Double]
  public var fastLosses: [Double]
  /// The plain path's second run (nil: not run, noise taken as 0).
  public var replicaLosses: [Double]?
  public var tolerance: Double
  public var noiseFactor: Double

  public init(tag: String, plainLosses: [Double], fastLosses: [Double], replicaLosses: [Double]? = nil,
              tolerance: Double, noiseFactor: Double = 5)
  {
    self.tag = tag
    self.plainLosses = plainLosses
    self.fastLosses = fastLosses
    self.replicaLosses = replicaLosses
    self.tolerance = tolerance
    self.noiseFactor = noiseFactor
  }

  static func maxRelativeDifference(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) / Swift.max(abs($1), 1e-12) }.max() ?? 0
  }

  public var maxRelativeDifference: Double { Self.maxRelativeDifference(fastLosses, plainLosses) }
  /// The largest relative difference between the plain path's two runs.
  public var noise: Double { replicaLosses.map { Self.maxRelativeDifference($0, plainLosses) } ?? 0 }
  public var allowed: Double { Swift.max(tolerance, noiseFactor * noise) }
  public var passed: Bool {
    maxRelativeDifference <= allowed && fastLosses.allSatisfy(\.isFinite) && (replicaLosses ?? []).allSatisfy(\.isFinite)
  }

  public var line: String {
    let losses = { (v: [Double]) in v.map { String(format: "%.6f", $0) }.joined(separator: " ") }
    return "# check \(tag) vs plain path: losses [\(losses(fastLosses))] vs [\(losses(plainLosses))], "
      + String(format: "max relative difference %.2e; plain vs plain %.2e, allowed max(%.0e, %g x %.2e) = %.2e: ",
               maxRelativeDifference, noise, tolerance, noiseFactor, noise, allowed)
      + (passed ? "ok" : "FAILED")
  }
}

extension StepBenchmark {
  /// Runs `steps` training steps of `c` and of `c.plain` and compares their losses (see `TrajectoryCheck`).
  public static func trajectoryCheck(_ c: BenchmarkCase, steps: Int, device: Device, seed: UInt64 = 0,
                                     tolerance: Double = 1e-3, noiseFactor: Double = 5) throws -> TrajectoryCheck
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
    let replica = try losses(c.plain, steps: steps, device: device, seed: seed)
    return TrajectoryCheck(tag: c.tag, plainLosses: plain, fastLosses: fast, replicaLosses: replica,
                           tolerance: tolerance, noiseFactor: noiseFactor)
  }

  /// The per-step losses of `steps` steps from a fresh seeded model on one synthetic batch.
  static func losses(_ c: BenchmarkCase, steps: Int, device: Device, seed: UInt64) throws -> [Double] {
    let step = try Fixture(c, device: device, seed: seed)
    let losses = try (0..<steps).map { _ in try step().loss.clone() }
    return try Tensor.stack(losses).toArray(Double.self)
  }
}
