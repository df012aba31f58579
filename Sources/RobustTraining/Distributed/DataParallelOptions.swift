/// How a data-parallel job moves its gradients (`agr train --dist-backend`, `--bucket-mb`).
public struct DataParallelOptions: Equatable, Sendable {
  /// The collectives' engine for the gradients; nil: NCCL for CUDA ranks, Gloo for CPU ranks.
  public var backend: CollectiveBackend?
  /// Bucket size of the all-reduce overlapped with the backward pass, in MB (10^6 bytes; PyTorch DDP's
  /// `bucket_cap_mb`, 25 by default); 0: one flat all-reduce after the backward passes.
  public var bucketMegabytes: Double

  public static let defaultBucketMegabytes = 25.0

  public init(backend: CollectiveBackend? = nil, bucketMegabytes: Double = Self.defaultBucketMegabytes) {
    self.backend = backend
    self.bucketMegabytes = bucketMegabytes
  }

  /// Why `megabytes` is not a bucket size (nil when it is): 0 (flat) or a positive size up to 10 GB.
  public static func bucketProblem(_ megabytes: Double) -> String? {
    guard megabytes.isFinite, megabytes >= 0, megabytes <= 10_000 else {
      return "must be 0 (one flat all-reduce after the backward pass) or a size in MB up to 10000, not \(megabytes)"
    }
    if megabytes > 0 && megabytes * 1e6 < 4 { return "is below one float32 gradient (4 bytes): use 0 for the flat path" }
    return nil
  }

  public var bucketBytes: Int { Int((bucketMegabytes * 1e6).rounded()) }
}

/// A c10d backend for the gradient collectives.
public enum CollectiveBackend: String, CaseIterable, Codable, Sendable {
  /// NVIDIA's collectives on CUDA tensors (libctorch_nccl.so, opened on GPU machines only).
  case nccl
  /// Gloo: CPU tensors, or CUDA tensors staged through host memory.
  case gloo
}

/// The reducer's buffers of a step: the method gradient's, and AGR's clean gradient's.
public enum GradientSlot: Int, CaseIterable {
  case method, clean
}
