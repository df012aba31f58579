import Foundation
import Torch

extension Trainer {
  /// Refuses what data-parallel training does not do (yet), with the reason.
  static func checkSupported(_ c: TrainingConfiguration, by job: DataParallel) throws {
    if c.device.isCUDA {
      throw DataParallelError.unsupported(
        "ranks on CUDA need the NCCL backend, which is not built yet; ranks on the CPU use Gloo (--device cpu)")
    }
    if c.cudaGraphs == true { throw DataParallelError.unsupported("--cuda-graphs: graphs are not recorded under data parallelism") }
    guard c.batchSize >= job.worldSize else {
      throw DataParallelError.unsupported("--batch-size \(c.batchSize) is the global batch: it must be at least the \(job.worldSize) ranks")
    }
  }

  /// What every rank of a job must agree on: the configuration, without the device (each rank has its own).
  public static func settingsFingerprint(_ c: TrainingConfiguration) throws -> String {
    var shared = c
    shared.device = .cpu
    let json = try RunDirectory.configurationJSON(shared)
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
    for byte in json {
      hash ^= UInt64(byte)
      hash = hash &* 0x100_0000_01B3
    }
    return String(hash, radix: 16)
  }
}
