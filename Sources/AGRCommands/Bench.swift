import ArgumentParser
import Foundation
import RobustTraining

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
      s/epoch is projected for 50,000 training images (10,000 test images for the evaluation line).
      """)

  @Option(help: "Model: preact18, wrn34-10, resnet18 or smallcnn (28x28 grey inputs; quick on a CPU).")
  var model: String = "preact18"
  @Option(help: "Training method: all, at, trades or mart.") var method: String = "all"
  @Option(help: "AGR: both, on or off.") var agr: String = "both"
  @Option(help: "AGR arithmetic: flat (packed gradients, the default of training), per-tensor (the reference) or both.")
  var agrPath: String = "flat"
  @Option(help: "Batch size.") var batchSize: Int = 128
  @Option(help: "fp32 or bf16 (autocast for the forward passes).") var precision: String = "fp32"
  @Flag(help: "channels-last memory format for the model and the batch.") var channelsLast = false
  @Option(help: "Timed steps per configuration.") var steps: Int = 20
  @Option(help: "Untimed warm-up steps per configuration.") var warmup: Int = 3
  @Option(help: "PGD steps of the training attack.") var attackSteps: Int = 10
  @Option(help: "PGD steps of the evaluation throughput check (0: skip it).") var evalSteps: Int = 20
  @Option(help: "Batch size of the evaluation check (default: --batch-size).") var evalBatchSize: Int?
  @Flag(help: "Only the evaluation check (no training steps).") var evalOnly = false
  @Option(help: "cpu, cuda or cuda:N.") var device: String = "cpu"
  @Option(help: "CPU threads for libtorch (default: libtorch's choice).") var threads: Int?
  @Option(help: "Seed of the model initialisation, the data and the attacks.") var seed: UInt64 = 0
  @Flag(help: "Print one JSON document (an array of results) instead of text lines.") var json = false

  func run() throws { try reportingErrors(Bench.self, execute) }

  private func execute() throws {
    let architecture: ModelArchitecture
    do { architecture = try ModelArchitecture.parse(model) } catch { throw ValidationError("--model: \(error)") }
    let methods: [TrainingMethod]
    switch method.lowercased() {
    case "all": methods = [.at, .trades, .mart]
    case "at", "trades", "mart": methods = [TrainingMethod(rawValue: method.lowercased())!]
    default: throw ValidationError("--method: '\(method)' (choose all, at, trades or mart)")
    }
    let agrModes: [Bool]
    switch agr.lowercased() {
    case "both": agrModes = [false, true]
    case "on": agrModes = [true]
    case "off": agrModes = [false]
    default: throw ValidationError("--agr: '\(agr)' (choose both, on or off)")
    }
    let paths: [ReconstructionPath]
    switch agrPath.lowercased() {
    case "both": paths = [.flat, .perTensor]
    default:
      guard let p = ReconstructionPath(rawValue: agrPath.lowercased()) else {
        throw ValidationError("--agr-path: '\(agrPath)' (choose flat, per-tensor or both)")
      }
      paths = [p]
    }
    guard let precision = Precision(rawValue: precision.lowercased()) else {
      throw ValidationError("--precision: '\(self.precision)' (choose fp32 or bf16)")
    }
    guard batchSize > 0, steps > 0, warmup >= 0, attackSteps >= 0, evalSteps >= 0, !evalOnly || evalSteps > 0 else {
      throw ValidationError("--batch-size and --steps must be positive; --warmup, --attack-steps, --eval-steps >= 0")
    }
    if let threads { try Torch.setThreadCount(threads) }
    let device = try prepareDevice(self.device)
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
          cases.append(BenchmarkCase(model: architecture, method: m, agr: on, reconstructionPath: p,
                                     batchSize: batchSize, precision: precision, channelsLast: channelsLast,
                                     attackSteps: attackSteps))
        }
      }
    }
    var results: [BenchmarkResult] = []
    do {
      for c in cases {
        let r = try StepBenchmark.training(c, steps: steps, warmup: warmup, device: device, seed: seed)
        if !json { print(r.line) }
        results.append(r)
      }
      if evalSteps > 0 {
        let r = try StepBenchmark.evaluation(
          model: architecture, batchSize: evalBatchSize ?? batchSize, precision: precision, channelsLast: channelsLast,
          attackSteps: evalSteps, steps: steps, warmup: warmup, device: device, seed: seed)
        if !json { print(r.line) }
        results.append(r)
      }
    } catch {
      FileHandle.standardError.write(Data("error: \(error)\n".utf8))
      throw ExitCode.failure
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
      print(String(decoding: try encoder.encode(results), as: UTF8.self))
    }
  }
}
