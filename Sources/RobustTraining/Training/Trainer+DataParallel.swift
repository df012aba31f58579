import Foundation
import Torch

extension Trainer {
  /// Refuses what data-parallel training does not do (yet), naming the setting (a `ConfigurationError`).
  static func checkSupported(_ c: TrainingConfiguration, by job: DataParallel) throws {
    if c.device.isCUDA && c.device != job.device {
      throw ConfigurationError(
        key: "device", "a CUDA rank trains on the GPU DataParallel.prepare(device:) chose for it (cuda:LOCAL_RANK), "
          + "\(job.device.map { "\($0)" } ?? "none yet"), not \(c.device)")
    }
    if c.cudaGraphs == true { throw ConfigurationError(key: "cuda_graphs", "graphs are not recorded under data parallelism") }
    if c.gradAlign != nil { throw ConfigurationError(key: "grad_align", "GradAlign is not done under data parallelism yet") }
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
