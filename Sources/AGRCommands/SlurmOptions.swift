import ArgumentParser
import Foundation

/// The resources `agr grid --slurm` asks SLURM for, per array task (one run each), as `#SBATCH` lines.
/// Every value is checked before anything is written: a value that would break its `#SBATCH` line (a space,
/// a line break) or that SLURM would refuse only after submission is refused here, naming its flag.
struct SlurmOptions: ParsableArguments {
  @Option(name: .customLong("slurm-partition"), help: ArgumentHelp("The partition to run the array in.", valueName: "NAME"))
  var partition: String?
  @Option(name: .customLong("slurm-account"), help: ArgumentHelp("The account to charge.", valueName: "NAME"))
  var account: String?
  @Option(name: .customLong("slurm-time"),
          help: ArgumentHelp("Time limit per run: MINUTES, HH:MM:SS, D-HH or D-HH:MM:SS.", valueName: "TIME"))
  var time: String?
  @Option(name: .customLong("slurm-cpus-per-task"),
          help: ArgumentHelp("CPU cores per run (also its libtorch threads).", valueName: "N"))
  var cpusPerTask: Int?
  @Option(name: .customLong("slurm-gpus-per-task"),
          help: ArgumentHelp("GPUs per run, COUNT or TYPE:COUNT (default: 1 for runs on CUDA, N with --nproc-per-node N; "
                             + "none for CPU runs; 0: none).", valueName: "GPUS"))
  var gpusPerTask: String?
  @Option(name: .customLong("slurm-mem"), help: ArgumentHelp("Memory per run, e.g. 16G (sbatch --mem).", valueName: "SIZE"))
  var memory: String?
  @Option(name: .customLong("slurm-max-running"),
          help: ArgumentHelp("At most this many runs at once (the array's %LIMIT).", valueName: "N"))
  var maxRunning: Int?
  @Option(name: .customLong("slurm-option"), parsing: .unconditionalSingleValue,
          help: ArgumentHelp("One more #SBATCH line, e.g. --slurm-option --qos=long (repeatable).", valueName: "OPTION"))
  var extra: [String] = []

  /// The flags given, for "only with --slurm".
  var given: [String] {
    [("--slurm-partition", partition != nil), ("--slurm-account", account != nil), ("--slurm-time", time != nil),
     ("--slurm-cpus-per-task", cpusPerTask != nil), ("--slurm-gpus-per-task", gpusPerTask != nil),
     ("--slurm-mem", memory != nil), ("--slurm-max-running", maxRunning != nil), ("--slurm-option", !extra.isEmpty)]
      .filter(\.1).map(\.0)
  }

  /// The `#SBATCH` options for the resources (without the array and output lines); `defaultGPUs` is used when
  /// `--slurm-gpus-per-task` is not given (0: none).
  func directives(defaultGPUs: Int) throws -> [String] {
    var lines = [String]()
    if let partition { lines.append("--partition=\(try Self.word(partition, "--slurm-partition"))") }
    if let account { lines.append("--account=\(try Self.word(account, "--slurm-account"))") }
    if let time {
      guard Self.isTimeLimit(time) else {
        throw ValidationError("--slurm-time: '\(time)' is not a SLURM time limit (MINUTES, HH:MM:SS, D-HH or D-HH:MM:SS)")
      }
      lines.append("--time=\(time)")
    }
    if let cpusPerTask {
      guard cpusPerTask >= 1 else { throw ValidationError("--slurm-cpus-per-task: must be at least 1, got \(cpusPerTask)") }
      lines.append("--cpus-per-task=\(cpusPerTask)")
    }
    let gpus = try gpusPerTask.map(Self.gpuRequest) ?? (defaultGPUs > 0 ? String(defaultGPUs) : nil)
    if let gpus { lines.append("--gpus-per-task=\(gpus)") }
    if let memory {
      let digits = memory.last.map { "KMGT".contains($0) } == true ? memory.dropLast() : Substring(memory)
      guard Self.isNumber(digits), digits.first != "0" else {
        throw ValidationError("--slurm-mem: '\(memory)' is not a memory size (a positive number of MB, or with K, M, G or T)")
      }
      lines.append("--mem=\(memory)")
    }
    for option in extra {
      guard option.hasPrefix("-"), !option.contains(where: { $0.isNewline || $0.asciiValue.map { $0 < 32 } == true }) else {
        throw ValidationError("--slurm-option: '\(option)' is not one sbatch option (it starts with - and holds no line break)")
      }
      lines.append(option)
    }
    return lines
  }

  /// The array's `%LIMIT` suffix ("" without `--slurm-max-running`).
  func throttle() throws -> String {
    guard let maxRunning else { return "" }
    guard maxRunning >= 1 else { throw ValidationError("--slurm-max-running: must be at least 1, got \(maxRunning)") }
    return "%\(maxRunning)"
  }

  /// nil for 0 (no GPU line); "2" or "a100:2" otherwise.
  static func gpuRequest(_ text: String) throws -> String? {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    let type = parts.count == 2 ? parts[0] : nil
    guard parts.count <= 2, let last = parts.last, isNumber(last), let count = Int(last),
          type.map({ !$0.isEmpty && $0.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) } }) ?? true
    else {
      throw ValidationError("--slurm-gpus-per-task: '\(text)' is not a GPU count (COUNT or TYPE:COUNT, e.g. 1 or a100:1)")
    }
    guard count > 0 else {
      guard type == nil else { throw ValidationError("--slurm-gpus-per-task: '\(text)' asks for 0 GPUs of a type") }
      return nil
    }
    return text
  }

  /// A name SLURM takes as one word in an `#SBATCH` line.
  static func word(_ text: String, _ flag: String) throws -> String {
    guard !text.isEmpty, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.,:+-".contains($0)) }) else {
      throw ValidationError("\(flag): '\(text)' is not a SLURM name (letters, digits, _ . , : + - only)")
    }
    return text
  }

  /// SLURM's time formats: M, M:S, H:M:S, D-H, D-H:M, D-H:M:S.
  static func isTimeLimit(_ text: String) -> Bool {
    let days = text.split(separator: "-", omittingEmptySubsequences: false)
    guard days.count <= 2, days.count == 1 || isNumber(days[0]) else { return false }
    let clock = days.last!.split(separator: ":", omittingEmptySubsequences: false)
    return clock.count <= 3 && clock.allSatisfy(isNumber)
  }

  static func isNumber(_ text: Substring) -> Bool { !text.isEmpty && text.allSatisfy { $0.isASCII && $0.isNumber } }
}
