import ArgumentParser
import Foundation
import RobustTraining
import RobustTrainingBench

/// Times c10d's all-reduce between ranks, the number data-parallel step-time projections start from.
struct CommBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "comm-bench",
    abstract: "Time the data-parallel all-reduce (Gloo) between N ranks: the bandwidth that step-time projections use.",
    discussion: """
      Each rank all-reduces one float32 bucket of --megabytes, as a training step does (PreAct-ResNet-18: \
      44.7 MB, 89.4 MB with AGR's clean gradient). Prints the mean time, the algorithm bandwidth (bytes / time) \
      and the bus bandwidth (x 2(N-1)/N, what each link carries in a ring all-reduce; comparable across N).
      """)

  @Option(parsing: .unconditional, help: "Ranks on this machine.") var nprocPerNode: Int = 2
  @Option(parsing: .unconditional, help: "Bucket size in MB (10^6 bytes).") var megabytes: Double = 44.7
  @Option(parsing: .unconditional, help: "Timed all-reduces.") var iterations: Int = 10
  @Option(parsing: .unconditional, help: "Untimed all-reduces first.") var warmup: Int = 2
  @Option(parsing: .unconditional, help: "Seconds a rank waits for the others.") var distTimeout: Double = 120
  @Option(help: "cpu, or cuda (rank r on cuda:LOCAL_RANK).") var device: String = "cpu"
  @Option(help: "The collectives on --device's tensors: nccl or gloo (default: nccl on CUDA, gloo on the CPU).") var distBackend: String?
  @Option(help: "Time training steps of this model (AT, synthetic data) instead of a bare all-reduce: \(choices(ModelArchitecture.self, \.summary)).")
  var model: String?
  @Option(parsing: .unconditional, help: "With --model: images per rank and step.") var batchSize: Int = 32
  @Option(parsing: .unconditional, help: "With --model: side of the synthetic images (default: the model's).") var imageSize: Int?
  @Option(parsing: .unconditional, help: "With --model: PGD steps of the training attack.") var attackSteps: Int = 2
  @Flag(help: "With --model: AT + AGR (two gradients all-reduced per step).") var agr = false
  @Option(parsing: .unconditional, help: "With --model: bucket size of the overlapped way, in MB.") var bucketMb: Double = DataParallelOptions.defaultBucketMegabytes
  @Option(parsing: .unconditional, help: "With --model: blocks per way (alternating; the median is reported).") var rounds: Int = 5

  func run() throws { try reportingErrors(CommBench.self, execute) }

  private func execute() throws {
    guard megabytes > 0, megabytes <= 1e5, iterations > 0, warmup >= 0 else {
      throw ValidationError("--megabytes must lie in (0, 100000], --iterations be positive, --warmup >= 0")
    }
    if let problem = DurationRange.problem(seconds: distTimeout) { throw ValidationError("--dist-timeout \(problem)") }
    guard let place = try DistributedEnvironment.read() else {
      if let problem = WorkerLauncher.processCountProblem(nprocPerNode, minimum: 2) {
        throw ValidationError("--nproc-per-node \(problem)\(nprocPerNode < 2 ? " (an all-reduce needs two ranks)" : "")")
      }
      let launcher = WorkerLauncher(executable: WorkerLauncher.currentExecutable,
                                    arguments: withoutLauncherFlags(Array(CommandLine.arguments.dropFirst())),
                                    processCount: nprocPerNode, masterPort: try TCPStore.freeLoopbackPort())
      let status = try launcher.run { FileHandle.standardError.write(Data("agr comm-bench: \($0)\n".utf8)) }
      if status != 0 { throw ExitCode(status) }
      return
    }
    var backend: CollectiveBackend?
    if let distBackend {
      guard let named = CollectiveBackend(rawValue: distBackend.lowercased()) else {
        throw ValidationError("--dist-backend must be nccl or gloo, not '\(distBackend)'")
      }
      backend = named
    }
    let job = try DataParallel(environment: place, timeoutSeconds: distTimeout, options: DataParallelOptions(backend: backend))
    let requested: Device
    do { requested = try Device(parsing: device) } catch { throw ValidationError("--device: \(error)") }
    try prepare(requested)
    let onDevice = try job.prepare(device: requested)
    if let model { return try timeSteps(model, job: job, device: onDevice) }
    let elements = Int(megabytes * 1e6 / 4)
    let bucket = try Tensor.ones([elements], device: onDevice)
    let group = job.deviceGroup
    func synchronize() throws { if case .cuda(let index) = onDevice { try CUDA.synchronize(index) } }
    for _ in 0..<warmup { try group.allReduceSum(bucket) }
    try synchronize()
    try job.barrier("the start of the timing")
    let start = Date()
    for _ in 0..<iterations { try group.allReduceSum(bucket) }
    try synchronize()
    let seconds = Date().timeIntervalSince(start) / Double(iterations)
    guard job.rank == 0 else { return }
    let n = Double(job.worldSize)
    let algorithm = Double(elements * 4) / seconds / 1e9
    print(String(format: "all-reduce of %.4g MB over %d ranks (%@ on %@, %@): %.2f ms; algorithm bandwidth %.2f GB/s, bus bandwidth %.2f GB/s",
                 Double(elements * 4) / 1e6, job.worldSize, group.backend, "\(onDevice)", place.masterAddress, seconds * 1000, algorithm,
                 algorithm * 2 * (n - 1) / n))
  }

  private func timeSteps(_ name: String, job: DataParallel, device: Device) throws {
    let architecture = try parseModel(name)
    guard batchSize > 0, attackSteps >= 0, rounds > 0 else {
      throw ValidationError("--batch-size and --rounds must be positive, --attack-steps >= 0")
    }
    guard bucketMb > 0, DataParallelOptions.bucketProblem(bucketMb) == nil else {
      throw ValidationError("--bucket-mb must be a size in MB in (0, 10000] here (the flat way is timed anyway)")
    }
    let c = BenchmarkCase(model: architecture, method: .at, agr: agr, reconstructionPath: .perTensor, batchSize: batchSize,
                          attackSteps: attackSteps, imageSize: imageSize)
    let timings = try DataParallelStepBenchmark.run(c, job: job, bucketBytes: Int(bucketMb * 1e6), rounds: rounds,
                                                    stepsPerBlock: iterations, warmup: warmup, device: device)
    guard job.rank == 0 else { return }
    let compute = timings.first { $0.way == .computeOnly }!.msPerStep
    print("# \(job.worldSize) ranks (\(job.deviceGroup.backend) on \(device)), \(architecture.rawValue)\(imageSize.map { " \($0)x\($0)" } ?? ""), AT\(agr ? "+AGR" : "") "
      + "PGD-\(attackSteps), \(batchSize) images per rank; median of \(rounds) blocks of \(iterations) steps per way, alternating")
    for t in timings {
      let exposed = t.way == .computeOnly ? "" : String(format: "; exposed communication %.1f ms", t.msPerStep - compute)
      let buckets = t.buckets.map { " (\($0) buckets of up to \(String(format: "%g", bucketMb)) MB)" } ?? ""
      print(String(format: "%@%@: %.1f ms/step", t.way.rawValue, buckets, t.msPerStep) + exposed
        + "  [blocks: " + t.blockMilliseconds.map { String(format: "%.1f", $0) }.joined(separator: " ") + "]")
    }
    // the blocks of one round ran back to back: their ratio is the paired comparison
    let flat = timings.first { $0.way == .flat }!.blockMilliseconds
    let overlapped = timings.first { $0.way == .overlapped }!.blockMilliseconds
    let ratios = zip(flat, overlapped).map { $0 / $1 }.sorted()
    print(String(format: "flat / overlapped step time, per round: median %.2f (range %.2f to %.2f over %d rounds)",
                 ratios[ratios.count / 2], ratios.first!, ratios.last!, ratios.count))
  }
}
