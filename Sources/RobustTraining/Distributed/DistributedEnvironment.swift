import Foundation

/// Where a worker of a data-parallel job is, read from the variables torchrun (and `agr train
/// --nproc-per-node`) set: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT. Under SLURM's
/// `srun` without torchrun, SLURM_PROCID / SLURM_NTASKS / SLURM_LOCALID stand in for the first three.
public struct DistributedEnvironment: Equatable, Sendable {
  public var rank: Int
  public var worldSize: Int
  public var localRank: Int
  public var masterAddress: String
  public var masterPort: Int

  public init(rank: Int, worldSize: Int, localRank: Int, masterAddress: String, masterPort: Int) {
    self.rank = rank
    self.worldSize = worldSize
    self.localRank = localRank
    self.masterAddress = masterAddress
    self.masterPort = masterPort
  }

  /// The worker's place, or nil when the process was not started as part of a job (no WORLD_SIZE, or
  /// WORLD_SIZE 1 without a RANK, or a one-task SLURM step without WORLD_SIZE). A variable that is present but malformed is an error naming it.
  public static func read(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> DistributedEnvironment? {
    func integer(_ names: [String]) throws -> Int? {
      for name in names {
        guard let text = environment[name] else { continue }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), value >= 0 else {
          throw DataParallelError.environment("\(name)=\(text) is not a non-negative integer")
        }
        return value
      }
      return nil
    }
    // A SLURM job step of one task (an sbatch script's plain `agr train`, an array task) is no data-parallel job.
    if environment["WORLD_SIZE"] == nil, try integer(["SLURM_NTASKS"]) == 1 { return nil }
    guard let worldSize = try integer(["WORLD_SIZE", "SLURM_NTASKS"]) else { return nil }
    let rank = try integer(["RANK", "SLURM_PROCID"])
    if worldSize <= 1 && rank == nil { return nil }
    guard worldSize >= 1 else { throw DataParallelError.environment("WORLD_SIZE=0: a job needs at least one worker") }
    guard let rank else { throw DataParallelError.environment("WORLD_SIZE is \(worldSize) but RANK is not set") }
    guard rank < worldSize else { throw DataParallelError.environment("RANK=\(rank) is not below WORLD_SIZE=\(worldSize)") }
    let localRank = try integer(["LOCAL_RANK", "SLURM_LOCALID"]) ?? rank
    guard let address = environment["MASTER_ADDR"], !address.isEmpty else {
      throw DataParallelError.environment("MASTER_ADDR is not set: the address of rank 0's machine")
    }
    guard let port = try integer(["MASTER_PORT"]) else {
      throw DataParallelError.environment("MASTER_PORT is not set: a free TCP port on rank 0's machine")
    }
    guard (1...65535).contains(port) else { throw DataParallelError.environment("MASTER_PORT=\(port) is not a TCP port") }
    return DistributedEnvironment(rank: rank, worldSize: worldSize, localRank: localRank, masterAddress: address, masterPort: port)
  }

  /// How many ranks of a `worldSize` job share this machine (and so its cores): LOCAL_WORLD_SIZE (torchrun and
  /// `agr train --nproc-per-node` set it), else SLURM's tasks on this node (SLURM_NTASKS_PER_NODE, else the
  /// first count of SLURM_TASKS_PER_NODE, "4(x2)" giving 4), else all `worldSize` ranks (a job placed by hand
  /// with RANK and WORLD_SIZE alone is most likely on one machine). A variable that is not a positive integer
  /// is passed over; the result lies in 1...worldSize.
  public static func localWorldSize(_ environment: [String: String] = ProcessInfo.processInfo.environment,
                                    worldSize: Int) -> Int {
    func count(_ name: String) -> Int? {
      guard let text = environment[name]?.trimmingCharacters(in: .whitespaces) else { return nil }
      let digits = name == "SLURM_TASKS_PER_NODE" ? String(text.prefix { $0.isASCII && $0.isNumber }) : text
      return Int(digits).flatMap { $0 > 0 ? $0 : nil }
    }
    let local = count("LOCAL_WORLD_SIZE") ?? count("SLURM_NTASKS_PER_NODE") ?? count("SLURM_TASKS_PER_NODE") ?? worldSize
    return Swift.max(1, Swift.min(local, Swift.max(1, worldSize)))
  }

  /// The variables that place a worker (for starting one).
  public var variables: [String: String] {
    ["RANK": String(rank), "WORLD_SIZE": String(worldSize), "LOCAL_RANK": String(localRank),
     "MASTER_ADDR": masterAddress, "MASTER_PORT": String(masterPort)]
  }
}
