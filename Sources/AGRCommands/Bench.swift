import ArgumentParser
import Foundation
import RobustTraining
import RobustTrainingBench

/// Times complete adversarial-training steps and PGD evaluation on synthetic data.
struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Time training steps (PGD-k attack + update) of AT, TRADES and MART, with and without AGR, "
      + "and PGD-20 evaluation, on synthetic data.",
    discussion: """
      Each configuration starts from a fresh model (seeded), runs --warmup untimed steps, then --steps timed \
      ones on one synthetic batch (images uniform in [0, 1], random labels). On CUDA the timed region is \
      bracketed by device synchronisations and the peak GPU memory is reported. The settings are those of \
      shared/bench/torch_reference.py (SGD lr 0.1, momentum 0.9, weight decay 5e-4; eps 8/255, step 2/255; \
      TRADES/MART beta 6; AGR C = 0.1), and each line reads like that script's:
        agr-swift preact18 at+agr/flat bs=128 fp32: 75.0 ms/step 1707 img/s 29.3 s/epoch peak 2100 MiB
      s/epoch is projected for 50,000 training images (10,000 test images for the evaluation line, which times \
      agr train's per-epoch test evaluation of a batch: clean forward pass, PGD-k, forward pass on its output).
      """)

  @Option(help: "Model: \(choices(ModelArchitecture.self, \.summary)).")
  var model: String = "preact18"
  @Option(help: "Time this TorchScript module (torch.jit.script(model).save) in place of --model's network, on --model's input shape and --image-size.")
  var modelFile: String?
  @Option(help: "Training method: all or one of \(choices(TrainingMethod.self)) except standard.") var method: String = "all"
  @Option(help: "AGR: both, on or off.") var agr: String = "both"
  @Option(help: "AWP on top of the method (gamma \(AdversarialWeightPerturbation.defaultGamma), proxy lr \(AdversarialWeightPerturbation.defaultProxyLearningRate)): off, on or both.") var awp: String = "off"
  @Option(help: "AGR arithmetic: flat (packed gradients; training's path on a GPU), per-tensor (the reference; training's path on the CPU) or both.")
  var agrPath: String = "flat"
  @Option(help: "CUDA graphs for the training step: off, on or both (see GraphedTrainingStep; needs libctorch_cuda_graphs.so).")
  var cudaGraphs: String = "off"
  @Option(parsing: .unconditional, help: "Before timing a configuration with a fast path (flat AGR, channels-last, CUDA graphs), compare the losses of this many fp32 steps with the plain path (0: no check).")
  var checkSteps: Int = 0
  @Option(parsing: .unconditional, help: "Relative loss difference the check accepts in any case (alone on the CPU, where the plain path repeats bitwise).")
  var checkTolerance: Double = 1e-3
  @Option(parsing: .unconditional, help: "The check also accepts up to this many times the plain path's own run-to-run difference (measured by running it twice; non-deterministic GPU kernels).")
  var checkNoiseFactor: Double = 5
  @Flag(help: "Before timing each eager configuration, count the ATen operations of one step that launch work (kernels on a GPU); scripts/count_torch_ops.py counts PyTorch eager's the same way.")
  var countOps = false
  @Flag(help: "With the count, list the operations by name (as count_torch_ops.py --names).") var listOps = false
  @Option(parsing: .unconditional, help: "Side of the synthetic images of the training steps (default: 32, SmallCNN 28); small ones measure the framework's per-operation cost.")
  var imageSize: Int?
  @Option(help: "Also save a profiler trace (Chrome trace JSON, GPU kernels included on CUDA) of 2 steps of each training configuration into this folder (created); scripts/trace_summary.py reads them.")
  var trace: String?
  @Flag(help: "Only the host cost of one dispatched operation (a 1-element add, best of 3 x 20,000), in microseconds; count_torch_ops.py --dispatch-overhead times PyTorch's.")
  var dispatchOverhead = false
  @Option(parsing: .unconditional, help: "Batch size.") var batchSize: Int = 128
  @Option(help: "fp32 or bf16 (autocast for the forward passes).") var precision: String = "fp32"
  @Flag(help: "channels-last memory format for the model and the batch.") var channelsLast = false
  @Option(parsing: .unconditional, help: "Timed steps per configuration.") var steps: Int = 20
  @Option(parsing: .unconditional, help: "Untimed warm-up steps per configuration.") var warmup: Int = 3
  @Option(parsing: .unconditional, help: "PGD steps of the training attack.") var attackSteps: Int = 10
  @Option(parsing: .unconditional, help: "PGD steps of the evaluation throughput check (0: skip it).") var evalSteps: Int = 20
  @Option(parsing: .unconditional, help: "Batch size of the evaluation check (default: --batch-size).") var evalBatchSize: Int?
  @Flag(help: "Only the evaluation check (no training steps).") var evalOnly = false
  @Option(help: "cpu, cuda or cuda:N.") var device: String = "cpu"
  @Option(parsing: .unconditional, help: "CPU threads for libtorch (default: libtorch's choice).") var threads: Int?
  @Option(parsing: .unconditional, help: "Seed of the model initialisation, the data and the attacks.") var seed: UInt64 = 0
  @Flag(help: "Print one JSON document (an array of results) instead of text lines.") var json = false

  func run() throws { try reportingErrors(Bench.self, execute) }

  /// An on/off/both option as the settings to run: [true], [false] or [false, true].
  static func settings(_ value: String, flag: String) throws -> [Bool] {
    switch value.lowercased() {
    case "both": return [false, true]
    case "on": return [true]
    case "off": return [false]
    default: throw ValidationError("\(flag): '\(value)' (choose both, on or off)")
    }
  }

  private func execute() throws {
    let architecture = try parseModel(model)
    // "all": the methods shared/bench/torch_reference.py times too
    let adversarial = TrainingMethod.allCases.filter(\.isAdversarial)
    let methods = method.lowercased() == "all"
      ? [.at, .trades, .mart] : adversarial.filter { $0.rawValue == method.lowercased() }
    guard !methods.isEmpty else {
      throw ValidationError("--method: '\(method)' (choose all, \(adversarial.map(\.rawValue).joined(separator: ", ")))")
    }
    let agrModes = try Self.settings(agr, flag: "--agr")
    let awpModes = try Self.settings(awp, flag: "--awp")
    if awpModes.contains(true) && cudaGraphs.lowercased() != "off" {
      throw ValidationError("--awp \(awp) with --cuda-graphs \(cudaGraphs): AWP's steps are not recorded as CUDA graphs yet")
    }
    let paths: [ReconstructionPath] = try parseChoices(agrPath, flag: "--agr-path")
    var graphModes = try Self.settings(cudaGraphs, flag: "--cuda-graphs")
    if let imageSize, imageSize < 8 { throw ValidationError("--image-size: at least 8, got \(imageSize)") }
    guard checkSteps >= 0, checkTolerance >= 0, checkNoiseFactor >= 0 else {
      throw ValidationError("--check-steps, --check-tolerance and --check-noise-factor must be >= 0")
    }
    guard let precision = Precision(rawValue: precision.lowercased()) else {
      throw ValidationError("--precision: '\(self.precision)' (choose fp32 or bf16)")
    }
    guard batchSize > 0, steps > 0, warmup >= 0, attackSteps >= 0, evalSteps >= 0, !evalOnly || evalSteps > 0 else {
      throw ValidationError("--batch-size and --steps must be positive; --warmup, --attack-steps, --eval-steps >= 0")
    }
    if let trace {
      do {
        try FileManager.default.createDirectory(atPath: trace, withIntermediateDirectories: true)
      } catch {
        throw ValidationError("--trace: cannot create the folder \(trace) (a file in the way, or no permission)")
      }
    }
    if let threads {
      guard threads > 0 else { throw ValidationError("--threads: must be positive, got \(threads)") }
      try Torch.setThreadCount(threads)
    }
    let device = try prepareDevice(self.device)
    if dispatchOverhead {
      let microseconds = try StepBenchmark.dispatchOverhead(device: device)
      print(String(format: "agr-swift dispatch %@: %.2f us/op (1-element add, best of 3 x 20000)", "\(device)", microseconds))
      return
    }
    if graphModes.contains(true) {
      guard device.isCUDA else { throw ValidationError("--cuda-graphs \(cudaGraphs) needs --device cuda") }
      do {
        try CUDAGraph.loadLibrary()
      } catch {
        guard graphModes.contains(false) else { throw CommandError("--cuda-graphs: \(error)") }
        // "both": the eager timings are still worth having
        FileHandle.standardError.write(Data("warning: --cuda-graphs both: graphs unavailable, timing eager only: \(error)\n".utf8))
        graphModes = [false]
      }
    }
    if !json {
      var where_ = "\(device)"
      if case .cuda(let index) = device { where_ += " (\((try? CUDA.deviceName(index)) ?? "?"))" }
      print("# agr bench: libtorch \(Torch.version), \(where_), \(Torch.threadCount) CPU threads, "
        + "\(warmup) warm-up + \(steps) timed steps, PGD-\(attackSteps) training attack")
    }

    var cases: [BenchmarkCase] = []
    for m in evalOnly ? [] : methods {
      for on in agrModes {
        for p in on ? paths : [.flat] {
          for graphs in graphModes {
            for weights in awpModes {
              cases.append(BenchmarkCase(model: architecture, method: m, agr: on, reconstructionPath: p,
                                         batchSize: batchSize, precision: precision, channelsLast: channelsLast,
                                         attackSteps: attackSteps, cudaGraphs: graphs, imageSize: imageSize, awp: weights,
                                         modelFile: modelFile))
            }
          }
        }
      }
    }
    var results: [BenchmarkResult] = []
    var failedChecks: [String] = []
    var failedCases: [String] = []
    for c in cases {
      // One configuration failing (e.g. a graph that cannot be recorded) does not stop the others.
      do {
        results.append(try measure(c, device: device, failedChecks: &failedChecks))
      } catch {
        FileHandle.standardError.write(Data("error: \(c.tag): \(error)\n".utf8))
        failedCases.append(c.tag)
      }
    }
    for graphs in evalSteps > 0 ? graphModes : [] {
      do {
        let r = try StepBenchmark.evaluation(
          model: architecture, modelFile: modelFile, batchSize: evalBatchSize ?? batchSize, precision: precision, channelsLast: channelsLast,
          attackSteps: evalSteps, cudaGraphs: graphs, steps: steps, warmup: warmup, device: device, seed: seed)
        if !json { print(r.line) }
        results.append(r)
      } catch {
        let name = "PGD-\(evalSteps) evaluation\(graphs ? " (CUDA graphs)" : "")"
        FileHandle.standardError.write(Data("error: \(name): \(error)\n".utf8))
        failedCases.append(name)
      }
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
    }
    if !failedChecks.isEmpty {
      FileHandle.standardError.write(Data(
        "error: the fast path disagrees with the plain path for: \(failedChecks.joined(separator: ", "))\n".utf8))
    }
    if !failedChecks.isEmpty || !failedCases.isEmpty { throw ExitCode.failure }
  }

  /// One training configuration: the fast-vs-plain check and the operation census when asked for, then the timing.
  private func measure(_ c: BenchmarkCase, device: Device, failedChecks: inout [String]) throws -> BenchmarkResult {
    var check: TrajectoryCheck?
    if checkSteps > 0 && c.usesFastPath {
      if c.precision == .fp32 {
        let result = try StepBenchmark.trajectoryCheck(c, steps: checkSteps, device: device, seed: seed,
                                                       tolerance: checkTolerance, noiseFactor: checkNoiseFactor)
        if !json { print(result.line) }
        if !result.passed { failedChecks.append(c.tag) }
        check = result
      } else if !json {
        print("# check \(c.tag): skipped (the plain and fast paths are compared in fp32)")
      }
    }
    if (countOps || listOps) && !c.cudaGraphs && !json {
      let census = try StepBenchmark.operationCensus(c, device: device, seed: seed)
      print(census.line(tag: c.tag))
      if listOps {
        for (name, n) in census.operations.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) { print("  \(name) \(n)") }
      }
    }
    var r = try StepBenchmark.training(c, steps: steps, warmup: warmup, device: device, seed: seed)
    r.trajectoryCheck = check
    if !json { print(r.line) }
    if let trace {
      let path = URL(fileURLWithPath: trace).appendingPathComponent("agr-\(StepBenchmark.fileName(tag: c.tag)).json").path
      try StepBenchmark.trace(c, warmup: Swift.max(warmup, 2), device: device, seed: seed, to: path)
      if !json { print("# trace \(c.tag): \(path)") }
    }
    return r
  }
}
