import Foundation

/// The `sbatch --array` script `agr grid --slurm` writes: one array task per run of the grid's expansion,
/// each `agr grid FILE --runs RUNS --task $SLURM_ARRAY_TASK_ID` with absolute paths, so that it runs the same
/// on any node that sees the runs folder.
struct SlurmArrayScript {
  let gridName: String
  let runCount: Int
  /// Absolute paths: the `agr` binary, the grid file, the runs folder, and the folder `agr grid --slurm` ran in
  /// (the tasks start there, so that relative data folders resolve as they did).
  let executable: URL
  let gridFile: URL
  let runs: URL
  let workingDirectory: URL
  /// `#SBATCH` options for the resources (`SlurmOptions.directives`) and the array's `%LIMIT` suffix.
  let directives: [String]
  let throttle: String
  /// Arguments every task passes on to its run (`--nproc-per-node N`).
  let taskArguments: [String]

  var file: URL { runs.appendingPathComponent("slurm.sbatch") }
  /// SLURM's own output of each task (the runs' logs stay in RUNS/logs).
  var logFolder: URL { runs.appendingPathComponent("slurm-logs") }

  /// The characters a path in an `#SBATCH` line cannot hold (sbatch splits at spaces; % is a filename pattern).
  static func sbatchPathProblem(_ path: String) -> String? {
    if let bad = path.first(where: { $0.isWhitespace || "%\\'\"#".contains($0) || $0.asciiValue.map { $0 < 32 } == true }) {
      return "holds \(bad.isWhitespace ? "a space or line break" : "'\(bad)'"), which an #SBATCH --output line cannot take"
    }
    return nil
  }

  var text: String {
    let name = "agr-" + String(gridName.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    let command = [executable.path, "grid", gridFile.path, "--runs", runs.path].map(Self.shellQuoted)
      + ["--task", "\"$SLURM_ARRAY_TASK_ID\""] + taskArguments.map(Self.shellQuoted)
    let lines = [
      "#!/bin/bash",
      "# Written by agr grid --slurm: one array task per run of the grid \(Self.comment(gridFile.path)) (\(runCount) runs).",
      "# Submit: sbatch \(Self.shellQuoted(file.path))",
      "# Table of the finished runs: \(Self.comment(executable.path)) grid \(Self.comment(gridFile.path)) --runs \(Self.comment(runs.path)) --table",
      "#SBATCH --job-name=\(name)",
      "#SBATCH --array=0-\(runCount - 1)\(throttle)",
      "#SBATCH --ntasks=1",
      "#SBATCH --output=\(logFolder.path)/%A_%a.out",
    ] + directives.map { "#SBATCH \($0)" } + [
      "",
      "set -eu",
      ": \"${SLURM_ARRAY_TASK_ID:?run this script with sbatch (it is an array job)}\"",
      "# one libtorch thread per CPU core SLURM gave the task",
      "export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"",
      "cd \(Self.shellQuoted(workingDirectory.path))",
      "exec " + command.joined(separator: " "),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes the script (executable) and creates the folder for SLURM's output, which sbatch does not create.
  func write() throws {
    try FileManager.default.createDirectory(at: logFolder, withIntermediateDirectories: true)
    try Data(text.utf8).write(to: file, options: .atomic)
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: file.path)
  }

  static func shellQuoted(_ text: String) -> String {
    text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-+=:,@".contains($0)) } ? text
      : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  /// A path inside a comment line: line breaks would end the comment.
  static func comment(_ text: String) -> String {
    shellQuoted(String(text.map { $0.isNewline ? " " : $0 }))
  }
}
