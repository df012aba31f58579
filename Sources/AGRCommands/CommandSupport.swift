import ArgumentParser
import Foundation
import RobustTraining

/// A user-facing error: printed as "error: <message>", exit status 1.
struct CommandError: Error, CustomStringConvertible {
  let description: String
  init(_ d: String) { description = d }
}

/// Runs `body`, printing any error as "error: ..." and exiting with status 1, or 64 (usage) for a
/// `ValidationError` thrown while resolving flags, with a pointer to the subcommand's help (left to
/// ArgumentParser, such an error would show the usage of `agr` itself). A library error that names a
/// setting (`ConfigurationError`) or a missing dataset is reworded in terms of the command's flags.
/// A process started by `agr grid` also reports how it ended in its status file (`GridChildStatus`).
func reportingErrors<Command: ParsableCommand>(_ command: Command.Type, _ body: () throws -> Void) throws {
  func fail(_ error: Error, _ message: String, _ code: ExitCode, hint: String = "") throws -> Never {
    FileHandle.standardError.write(Data("error: \(message)\n\(hint)".utf8))
    GridChildStatus.recordFailure(error, message: message)
    throw code
  }
  // The ranks of a data-parallel job report failures only; their launcher says how the job ended.
  let reportsEnd = ProcessInfo.processInfo.environment["RANK"] == nil
  do {
    try body()
    if reportsEnd { GridChildStatus.update { $0.state = .finished } }
  } catch let error as ExitCode {
    if error.rawValue == 130 {
      GridChildStatus.update { $0.state = .stopped }
    } else if error.rawValue != 0 {
      GridChildStatus.recordFailure(error, message: "exit status \(error.rawValue)")
    } else if reportsEnd {
      GridChildStatus.update { $0.state = .finished }
    }
    throw error
  } catch let error as ValidationError {
    let name = Command.configuration.commandName ?? String(describing: Command.self).lowercased()
    try fail(error, error.message, .validationFailure, hint: "see 'agr \(name) --help'\n")
  } catch let error as ConfigurationError {
    try reportingErrors(command) { throw ValidationError(flagMessage(error)) }
  } catch let error as DataRootError {
    try fail(error, "\(error)", .failure, hint: error.givenDirectory ? "" : "(or pass its folder with --data-dir)\n")
  } catch let error as NSError where error.domain == NSCocoaErrorDomain || error.domain == NSPOSIXErrorDomain {
    try fail(error, fileErrorText(error), .failure)
  } catch {
    try fail(error, "\(error)", .failure)
  }
}

/// The flag that sets a configuration key: `--` and the key with dashes, except where the flag is shorter.
func flag(forKey key: String) -> String {
  let renamed = [
    "learning_rate": "lr", "perturbation.epsilon": "eps", "epsilon": "eps", "perturbation.step_size": "step-size",
    "perturbation.steps": "attack-steps", "perturbation.loss": "trades-attack", "schedule": "lr-schedule",
    "data_directory": "data-dir", "perturbation.iterates": "training-pgd", "perturbation.norm": "norm", "perturbation.attack": "training-attack", "awp_proxy_learning_rate": "awp-proxy-lr",
    "synchronized_batch_norm": "sync-bn", "adam_beta1": "adam-betas", "adam_beta2": "adam-betas",
    "adam_epsilon": "adam-eps", "perturbation.replays": "free-replays",
  ]
  return "--" + (renamed[key] ?? key.replacingOccurrences(of: "_", with: "-"))
}

/// "--epochs: must be positive, got 0" for the key `epochs`.
func flagMessage(_ error: ConfigurationError) -> String { "\(flag(forKey: error.key)): \(error.message)" }

/// "a, b or c" from a registry's names; with `summaries`, "a (what a is), ...".
func choices<T: CaseIterable & RawRepresentable>(_ type: T.Type, _ summary: ((T) -> String)? = nil) -> String
where T.RawValue == String {
  let names = T.allCases.map { value in summary.map { "\(value.rawValue) (\($0(value)))" } ?? value.rawValue }
  return names.dropLast().joined(separator: ", ") + (names.count > 1 ? " or " : "") + (names.last ?? "")
}

/// Parses --device and loads CUDA when it is asked for.
func prepareDevice(_ text: String) throws -> Device {
  let device: Device
  do { device = try Device(parsing: text) } catch { throw ValidationError("--device: \(error)") }
  try prepare(device)
  return device
}

/// Loads CUDA for a CUDA device (cuDNN autotuning on); nothing for the CPU.
func prepare(_ device: Device) throws {
  guard device.isCUDA else { return }
  do { try CUDA.load() } catch { throw CommandError("--device \(device): CUDA cannot be used: \(error)") }
  try CUDA.setCuDNNBenchmark(true)
}

/// A model name from --model.
func parseModel(_ text: String) throws -> ModelArchitecture {
  do { return try ModelArchitecture.parse(text) } catch { throw ValidationError("--model: \(error)") }
}

/// The options that locate a checkpoint's data and settings (`agr eval`, `agr landscape`).
struct CheckpointOptions: ParsableArguments {
  @Option(help: "Dataset (default: the run's): \(choices(DatasetFormat.self)).") var dataset: String?
  @Option(help: "Folder holding the dataset files (default: the run's, else $\(DataRoot.environmentVariable)/<dataset> or data/<dataset>).")
  var dataDir: String?
  @Option(help: "Model (default: the run's): \(choices(ModelArchitecture.self)).") var model: String?
  @Option(help: "A TorchScript model file (default: the run's, when it trained one).") var modelFile: String?

  /// The checkpoint at `path` with these flags and --eps / --norm values (default: the run's or the checkpoint's
  /// threat model, else L-inf 8/255).
  func source(_ path: String, eps: String?, norm: String? = nil) throws -> CheckpointSource {
    let threatNorm: Norm?
    do { threatNorm = try norm.map { try Norm(parsing: $0) } } catch { throw ValidationError("--norm: \(error)") }
    return try CheckpointSource(url: URL(fileURLWithPath: path), epsilon: try eps.map { try parseFraction($0, flag: "--eps") },
                                norm: threatNorm, dataset: dataset, architecture: try model.map(parseModel),
                                modelFile: modelFile, dataDirectory: dataDir.map { URL(fileURLWithPath: $0) })
  }
}

/// This command line without the launcher's own flags, for the ranks a launcher starts (they are not launchers).
func withoutLauncherFlags(_ arguments: [String]) -> [String] {
  let flags = ["--nproc-per-node", "--master-port", "--master-addr", "--nnodes", "--node-rank"]
  var kept: [String] = []
  var skipNext = false
  for argument in arguments {
    if skipNext {
      skipNext = false
    } else if flags.contains(argument) {
      skipNext = true
    } else if !flags.contains(where: { argument.hasPrefix($0 + "=") }) {
      kept.append(argument)
    }
  }
  return kept
}
