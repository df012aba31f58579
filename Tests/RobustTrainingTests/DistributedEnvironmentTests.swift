import Testing

@testable import RobustTraining

/// Where a process stands in a job, from torchrun's or SLURM's variables.
@Suite struct DistributedEnvironmentTests {
  let place = ["MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500"]

  @Test func torchrunAndSLURMVariablesPlaceARank() throws {
    let torchrun = try DistributedEnvironment.read(place.merging(["RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1"]) { $1 })
    #expect(torchrun == DistributedEnvironment(rank: 3, worldSize: 4, localRank: 1, masterAddress: "10.0.0.1", masterPort: 29500))
    let srun = try DistributedEnvironment.read(place.merging(["SLURM_PROCID": "5", "SLURM_NTASKS": "8", "SLURM_LOCALID": "1"]) { $1 })
    #expect(srun == DistributedEnvironment(rank: 5, worldSize: 8, localRank: 1, masterAddress: "10.0.0.1", masterPort: 29500))
  }

  /// A one-task SLURM step (an sbatch script's `agr train`, an array task) trains alone, without MASTER_ADDR.
  @Test func aOneTaskSLURMStepIsNoJob() throws {
    #expect(try DistributedEnvironment.read(["SLURM_PROCID": "0", "SLURM_NTASKS": "1", "SLURM_LOCALID": "0"]) == nil)
    #expect(try DistributedEnvironment.read([:]) == nil)
    // torchrun's variables still make a one-rank job where they are set
    #expect(try DistributedEnvironment.read(place.merging(["RANK": "0", "WORLD_SIZE": "1", "SLURM_NTASKS": "1"]) { $1 }) != nil)
  }

  @Test func malformedOrMissingVariablesAreNamed() throws {
    #expect(throws: DataParallelError.environment("SLURM_NTASKS=two is not a non-negative integer")) {
      _ = try DistributedEnvironment.read(["SLURM_NTASKS": "two"])
    }
    #expect(throws: DataParallelError.environment("MASTER_ADDR is not set: the address of rank 0's machine")) {
      _ = try DistributedEnvironment.read(["SLURM_PROCID": "1", "SLURM_NTASKS": "2"])
    }
  }

  /// The ranks sharing this machine, which divide its cores among their decode threads.
  @Test func localWorldSizeComesFromTorchrunThenSLURMThenTheWorld() {
    #expect(DistributedEnvironment.localWorldSize(["LOCAL_WORLD_SIZE": "4", "SLURM_NTASKS_PER_NODE": "2"], worldSize: 8) == 4)
    #expect(DistributedEnvironment.localWorldSize(["SLURM_NTASKS_PER_NODE": "2", "SLURM_TASKS_PER_NODE": "3"], worldSize: 8) == 2)
    #expect(DistributedEnvironment.localWorldSize(["SLURM_TASKS_PER_NODE": "4(x2)"], worldSize: 8) == 4)
    #expect(DistributedEnvironment.localWorldSize(["SLURM_TASKS_PER_NODE": "3,2"], worldSize: 5) == 3)
    #expect(DistributedEnvironment.localWorldSize([:], worldSize: 3) == 3)
    // malformed or nonsensical values are passed over or clamped to 1...worldSize
    #expect(DistributedEnvironment.localWorldSize(["LOCAL_WORLD_SIZE": "two", "SLURM_NTASKS_PER_NODE": "0"], worldSize: 2) == 2)
    #expect(DistributedEnvironment.localWorldSize(["LOCAL_WORLD_SIZE": "16"], worldSize: 4) == 4)
    #expect(DistributedEnvironment.localWorldSize([:], worldSize: 0) == 1)
  }

  @Test func decodeThreadsDefaultToTheRanksShareOfTheCores() {
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 1, cores: 16) == 16)
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 4, cores: 16) == 4)
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 3, cores: 16) == 5)
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 8, cores: 2) == 1)
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 0, cores: 2) == 2)
    #expect(StreamingBatchLoader.defaultThreads(localRanks: 1, cores: 1024) == StreamingBatchLoader.maximumThreads)
  }
}
