import Foundation
import Torch

extension Trainer {
  /// Refuses what data-parallel training does not do (yet), naming the setting (a `ConfigurationError`).
  static func checkSupported(_ c: TrainingConfiguration, by job: DataParallel) throws {
    if c.device.isCUDA {
      throw ConfigurationError(
        key: "device", "ranks on CUDA need the NCCL backend, which is not built yet; ranks on the CPU use Gloo (device cpu)")
    }
    if c.cudaGraphs == true { throw ConfigurationError(key: "cuda_graphs", "graphs are not recorded under data parallelism") }
    guard c.batchSize >= job.worldSize else {
      throw ConfigurationError(key: "batch_size", "\(c.batchSize) is the global batch: it must be at least the \(job.worldSize) ranks")
    }
  }

  /// What every rank of a job must agree on: the configuration as JSON, without the device (each rank has
  /// its own); a few kilobytes, compared whole.
  public static func sharedSettings(_ c: TrainingConfiguration) throws -> String {
    var shared = c
    shared.device = .cpu
    return String(decoding: try RunDirectory.configurationJSON(shared), as: UTF8.self)
  }
}
