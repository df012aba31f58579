import Foundation
import RobustTraining
import Torch

/// Times data-parallel training steps in three ways, alternating block by block in one job so that every
/// way sees the same machine load: compute only (each rank steps its own shard alone, no collective), the
/// flat all-reduce after the backward passes (`--bucket-mb 0`), and the buckets overlapped with the backward
/// passes. The exposed communication of a way is its step time minus the compute-only one. Every rank runs
/// the same schedule (the collectives must match); a barrier starts each block.
public enum DataParallelStepBenchmark {
  public enum Way: String, CaseIterable, Sendable {
    case computeOnly = "compute only"
    case flat = "flat all-reduce"
    case overlapped = "overlapped buckets"
  }

  public struct Timing: Sendable {
    public let way: Way
    /// Median over the blocks of the mean step time in the block (the slowest rank's).
    public let msPerStep: Double
    public let blockMilliseconds: [Double]
    public let buckets: Int?
  }

  /// `c.batchSize` is the per-rank batch (the global batch is that times the ranks).
  public static func run(_ c: BenchmarkCase, job: DataParallel, bucketBytes: Int, rounds: Int, stepsPerBlock: Int,
                         warmup: Int, device: Device = .cpu, seed: UInt64 = 0) throws -> [Timing]
  {
    guard rounds > 0, stepsPerBlock > 0, warmup >= 0, bucketBytes > 0 else {
      throw TorchError("data-parallel bench: rounds, steps per block and the bucket size must be positive")
    }
    var steps: [Way: TrainingStep] = [:]
    for way in Way.allCases {
      Torch.manualSeed(seed)
      let step = try StepBenchmark.makeStep(c, device: device)
      switch way {
      case .computeOnly: try step.distribute(over: nil)
      case .flat: try step.distribute(over: job, bucketBytes: 0)
      case .overlapped: try step.distribute(over: job, bucketBytes: bucketBytes)
      }
      steps[way] = step
    }
    // every rank draws the global batch and keeps its rows, as training does
    Torch.manualSeed(seed &+ 1)
    let global = c.batchSize * job.worldSize
    let (images, labels) = try StepBenchmark.batch(c.model, size: global, device: device, channelsLast: c.channelsLast,
                                                   imageSize: c.imageSize)
    let shard = job.shard(of: global)
    let mine = (try images.slice(shard.rows.lowerBound, shard.rows.upperBound), try labels.slice(shard.rows.lowerBound, shard.rows.upperBound))
    func block(_ way: Way, count: Int) throws -> Double {
      let step = steps[way]!
      try job.barrier("the start of a timed block")
      let start = DispatchTime.now().uptimeNanoseconds
      for _ in 0..<count {
        let output = try step(images: mine.0, labels: mine.1, agr: c.agr, shard: way == .computeOnly ? nil : shard)
        _ = try output.loss.item()
      }
      let local = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6 / Double(count)
      // the slowest rank's time is the job's
      let all = try job.sum(try Tensor.oneHot(rank: job.rank, of: job.worldSize, value: local), what: "the block times")
      return try all.toArray(Double.self).max() ?? local
    }
    for way in Way.allCases where warmup > 0 { _ = try block(way, count: warmup) }
    var blocks: [Way: [Double]] = [:]
    for round in 0..<rounds {
      // alternate the order too, so that no way always follows another
      let order = round % 2 == 0 ? Way.allCases : Way.allCases.reversed()
      for way in order { blocks[way, default: []].append(try block(way, count: stepsPerBlock)) }
    }
    return Way.allCases.map { way in
      let times = blocks[way]!
      return Timing(way: way, msPerStep: times.sorted()[times.count / 2], blockMilliseconds: times,
                    buckets: way == .overlapped ? steps[way]!.reducer?.bucketCount : nil)
    }
  }
}

extension Tensor {
  /// A float64 vector of `count` zeros with `value` at `rank` (each rank's entry of a gathered sum).
  static func oneHot(rank: Int, of count: Int, value: Double) throws -> Tensor {
    var values = [Double](repeating: 0, count: count)
    values[rank] = value
    return try Tensor(values)
  }
}
