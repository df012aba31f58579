import Foundation
import Testing

@testable import RobustTraining

/// `agr grid` on a cluster, without SLURM: the `--slurm` script's tasks (run with bash, two at once, as an array's
/// tasks run) fill the runs folder; `--table` then gives the table the grid run straight gives. The script asks for
/// what the flags say; bad input is refused naming its flag, with nothing written.
@Suite(.serialized) struct GridSlurmTests {
  let folder: URL
  let data: URL

  init() throws { (folder, data) = try RunSafetyTests.scratchFolder("agr-grid-slurm", trainCount: 192, testCount: 48) }

  func agr(_ arguments: [String]) throws -> RunSafetyTests.Outcome {
    try RunSafetyTests.agr(arguments, environment: GridCommandTests.environment)
  }

  func gridFile(_ name: String, device: String = "cpu") throws -> URL {
    let url = folder.appendingPathComponent(name)
    try """
    {"preset": "quickstart",
     "settings": {"dataset": "mnist", "data_directory": "\(data.path)", "device": "\(device)", "epochs": 2,
                  "agr_start_epoch": 1, "train_subset": 192, "test_subset": 48, "batch_size": 48, "perturbation.steps": 1,
                  "eval_steps": 2, "diagnostics_every": 2, "log_every": 2},
     "axes": {"method": ["at"], "agr": [false, true], "seed": [0]},
     "evaluation": {"pgd_steps": 5, "autoattack": "apgd-ce", "autoattack_examples": 8}}
    """.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  /// Runs the array script's tasks with bash, all at once, as SLURM would start them; returns each one's output.
  func runTasks(_ script: URL, _ tasks: [Int]) throws -> [(status: Int32, output: String)] {
    let started = try tasks.map { task -> (Process, URL) in
      let output = folder.appendingPathComponent("task\(task)-\(UUID().uuidString).out")
      _ = FileManager.default.createFile(atPath: output.path, contents: nil)
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/bash")
      process.arguments = [script.path]
      // as sbatch starts an array task: its batch step is task 0 of 1
      process.environment = ProcessInfo.processInfo.environment.merging(
        ["SLURM_ARRAY_TASK_ID": String(task), "SLURM_NTASKS": "1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0"]) { $1 }
      process.standardOutput = try FileHandle(forWritingTo: output)
      process.standardError = process.standardOutput
      try process.run()
      return (process, output)
    }
    return started.map { process, output in
      process.waitUntilExit()
      return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }
  }

  @Test func theArrayTasksRunAtOnceAndTheirTableIsTheStraightGrids() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("tiny.json")
    let straight = folder.appendingPathComponent("straight")
    let direct = try agr(["grid", file.path, "--runs", straight.path])
    #expect(direct.status == 0, "\(direct.output.suffix(1500)) \(direct.errors)")

    let runs = folder.appendingPathComponent("cluster")
    let written = try agr(["grid", file.path, "--runs", runs.path, "--slurm"])
    #expect(written.status == 0, "\(written.errors)")
    let script = runs.appendingPathComponent("slurm.sbatch")
    #expect(written.output.contains("sbatch \(script.path)"), "\(written.output)")
    let text = try String(contentsOf: script, encoding: .utf8)
    #expect(text.contains("#SBATCH --array=0-1\n") && text.contains("#SBATCH --output=\(runs.path)/slurm-logs/%A_%a.out\n"))
    #expect(!text.contains("--gpus-per-task"), "a CPU grid asks for no GPU: \(text)")
    #expect(text.contains("exec \(RunSafetyTests.agr.resolvingSymlinksInPath().path) grid \(file.path) --runs \(runs.path) "
      + "--task \"$SLURM_ARRAY_TASK_ID\"\n"), "\(text)")
    #expect(FileManager.default.fileExists(atPath: runs.appendingPathComponent("slurm-logs").path))

    let before = try agr(["grid", file.path, "--runs", runs.path, "--table"])
    #expect(before.status == 0 && before.output.contains("0 of 2 runs done")
      && before.output.contains("0  at_no-agr_seed0  [to train]") && before.output.contains("1  at_agr_seed0  [to train]"),
            "\(before.output)")

    let tasks = try runTasks(script, [0, 1])
    for (task, outcome) in tasks.enumerated() {
      #expect(outcome.status == 0 && outcome.output.contains("task \(task) of 0-1"), "task \(task): \(outcome.output.suffix(1500))")
    }
    let again = try runTasks(script, [1])[0]
    #expect(again.status == 0 && again.output.contains("(at_agr_seed0): already done"), "\(again.output)")

    let gathered = try agr(["grid", file.path, "--runs", runs.path, "--table-only"])
    #expect(gathered.status == 0 && gathered.output.contains("all 2 runs done"), "\(gathered.output) \(gathered.errors)")
    let cluster = try GridCommandTests.tableWithoutTimes(runs)
    #expect(cluster == (try GridCommandTests.tableWithoutTimes(straight)))
    #expect(cluster.split(separator: "\n").count == 3 && cluster.contains("at_agr_seed0,at_agr,2,2,0."), "\(cluster)")
  }

  @Test func theScriptAsksForTheResourcesGiven() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("gpu.json", device: "cuda")
    // a path with .. in it is written resolved
    let runs = folder.appendingPathComponent("x/../gpu-runs")
    let outcome = try agr(["grid", file.path, "--runs", runs.path, "--slurm", "--nproc-per-node", "2", "--slurm-partition", "gpu",
                           "--slurm-account", "proj-1", "--slurm-time", "1-12:00:00", "--slurm-cpus-per-task", "8",
                           "--slurm-mem", "64G", "--slurm-max-running", "1", "--slurm-option", "--qos=long"])
    #expect(outcome.status == 0, "\(outcome.errors)")
    let resolved = folder.appendingPathComponent("gpu-runs")
    let text = try String(contentsOf: resolved.appendingPathComponent("slurm.sbatch"), encoding: .utf8)
    let directives = text.split(separator: "\n").filter { $0.hasPrefix("#SBATCH") }
    #expect(directives == ["#SBATCH --job-name=agr-gpu", "#SBATCH --array=0-1%1", "#SBATCH --ntasks=1",
                           "#SBATCH --output=\(resolved.path)/slurm-logs/%A_%a.out", "#SBATCH --partition=gpu",
                           "#SBATCH --account=proj-1", "#SBATCH --time=1-12:00:00", "#SBATCH --cpus-per-task=8",
                           "#SBATCH --gpus-per-task=2", "#SBATCH --mem=64G", "#SBATCH --qos=long"], "\(text)")
    #expect(text.contains("--runs \(resolved.path) --task \"$SLURM_ARRAY_TASK_ID\" --nproc-per-node 2\n"), "\(text)")
    #expect(text.contains("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-1}\"\n"))
    let syntax = Process()
    syntax.executableURL = URL(fileURLWithPath: "/bin/bash")
    syntax.arguments = ["-n", resolved.appendingPathComponent("slurm.sbatch").path]
    try syntax.run()
    syntax.waitUntilExit()
    #expect(syntax.terminationStatus == 0)

    // GPUs: one per run on CUDA by default, none with 0, a type as given
    for (flags, line) in [([], "#SBATCH --gpus-per-task=1"), (["--slurm-gpus-per-task", "0"], nil),
                          (["--slurm-gpus-per-task", "a100:1"], "#SBATCH --gpus-per-task=a100:1")] {
      let other = try agr(["grid", file.path, "--runs", resolved.path, "--slurm"] + flags)
      #expect(other.status == 0, "\(other.errors)")
      let written = try String(contentsOf: resolved.appendingPathComponent("slurm.sbatch"), encoding: .utf8)
      let gpus = written.split(separator: "\n").first { $0.contains("--gpus-per-task") }.map(String.init)
      #expect(gpus == line, "\(flags): \(written)")
    }
  }

  /// Each refused naming its flag, before the runs folder exists.
  @Test func badTaskAndSlurmInputIsRefusedWithNothingWritten() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("tiny.json")
    let cases: [([String], [String])] = [
      (["--task", "2"], ["--task", "2 runs", "0-1", "got 2"]),
      (["--task=-1"], ["--task", "0-1", "got -1"]),
      (["--slurm-partition", "gpu"], ["--slurm-partition: only with --slurm"]),
      (["--slurm", "--task", "0"], ["--task and --slurm", "only one of"]),
      (["--table", "--dry-run"], ["--dry-run and --table"]),
      (["--slurm", "--slurm-time", "2h"], ["--slurm-time", "'2h'"]),
      (["--slurm", "--slurm-mem", "16GB"], ["--slurm-mem", "'16GB'"]),
      (["--slurm", "--slurm-mem", "0"], ["--slurm-mem"]),
      (["--slurm", "--slurm-gpus-per-task", "two"], ["--slurm-gpus-per-task", "'two'"]),
      (["--slurm", "--slurm-cpus-per-task", "0"], ["--slurm-cpus-per-task", "at least 1"]),
      (["--slurm", "--slurm-max-running", "0"], ["--slurm-max-running", "at least 1"]),
      (["--slurm", "--slurm-partition", "a b"], ["--slurm-partition", "'a b'"]),
      (["--slurm", "--slurm-option", "--qos=x\n#SBATCH --exclusive"], ["--slurm-option", "line break"]),
      (["--slurm", "--devices", "cpu"], ["--devices", "--slurm-gpus-per-task"]),
    ]
    for (index, (flags, words)) in cases.enumerated() {
      let parent = folder.appendingPathComponent("case\(index)")
      try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
      let outcome = try agr(["grid", file.path, "--runs", parent.appendingPathComponent("runs").path] + flags)
      #expect(outcome.status != 0 && words.allSatisfy(outcome.errors.contains), "\(flags): \(outcome.errors)")
      #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty, "\(flags): something was written")
    }
    // --slurm without --runs: the default runs/<grid> would be relative to a folder the compute nodes may not have
    let noRuns = try agr(["grid", file.path, "--slurm"])
    #expect(noRuns.status != 0 && noRuns.errors.contains("--slurm needs --runs"), "\(noRuns.errors)")
    // a runs folder that an #SBATCH line cannot hold
    let spaced = folder.appendingPathComponent("with space")
    let refused = try agr(["grid", file.path, "--slurm", "--runs", spaced.path])
    #expect(refused.status != 0 && refused.errors.contains("--runs: \(spaced.path) holds a space"), "\(refused.errors)")
    #expect(!FileManager.default.fileExists(atPath: spaced.path))
  }
}
