import ArgumentParser
import Foundation
import RobustTraining

/// `agr grid` on a cluster: `--slurm` writes an array job, each of whose tasks is `--task I` (one run, beside the
/// others on a shared runs folder); `--table` gathers what has finished.
extension Grid {
  /// The modes exclude each other, the SLURM flags need --slurm, and --slurm needs --runs; all checked before
  /// anything is read or written.
  func checkSlurmFlags() throws {
    let modes = [("--dry-run", dryRun), ("--table", table), ("--task", task != nil), ("--slurm", slurm)].filter(\.1).map(\.0)
    if modes.count > 1 {
      throw ValidationError("\(modes.joined(separator: " and ")): give only one of --dry-run, --table, --task and --slurm")
    }
    if !slurm, let flag = slurmOptions.given.first { throw ValidationError("\(flag): only with --slurm") }
    guard slurm else { return }
    guard let runs else {
      throw ValidationError("--slurm needs --runs FOLDER: a folder every compute node sees at the same path (a shared "
        + "filesystem); the default runs/<grid name> is relative to this folder, which the nodes may not have")
    }
    if devices != nil {
      throw ValidationError("--devices: with --slurm each array task gets its GPUs from SLURM (--slurm-gpus-per-task)")
    }
    if let problem = SlurmArrayScript.sbatchPathProblem(Self.absolute(runs).path) {
      throw ValidationError("--runs: \(Self.absolute(runs).path) \(problem); choose a folder without it")
    }
  }

  static func absolute(_ path: String) -> URL { URL(fileURLWithPath: path).absoluteURL.standardizedFileURL }

  /// `--task I`: run I alone (train, then evaluate, as the whole grid would), in its own folder of the runs folder.
  /// No grid lock: tasks of one array run at once; each run's directory is locked by its `agr train`.
  func runTask(_ run: GridRun, index: Int, of count: Int, grid: ExperimentGrid, layout: GridLayout, slot: Device?) throws {
    let state: GridRunState
    do { state = try layout.state(of: run) } catch let error as GridError { throw CommandError("\(error)\nnothing was started") }
    let name = "grid \(grid.name), task \(index) of 0-\(count - 1) (\(run.name))"
    guard let job = try job(run, state, layout: layout) else {
      print("\(name): already done (trained and evaluated) in \(layout.run(run).url.path); nothing to do")
      return
    }
    print("\(name): \(Self.describe(state)) in \(layout.folder.path)")
    StopRequest.install()
    let queue = GridQueue(jobs: [job], layout: layout, slots: [slot], executable: WorkerLauncher.currentExecutable)
    guard try queue.run() else {
      FileHandle.standardError.write(Data("\(name) stopped; agr grid \(file) --task \(index) continues it\n".utf8))
      throw ExitCode(130)
    }
    if let failed = queue.failed.first { throw CommandError("\(name) failed (log: \(failed.log.path))") }
    print("table of the runs finished so far: agr grid \(file) --runs \(layout.folder.path) --table")
  }

  /// `--table`'s list of the runs that are not done (at most 50 named).
  func printUnfinished(_ all: [GridRun], _ states: [GridRunState]) {
    let unfinished = zip(all, states).enumerated().filter { !$0.element.1.isDone }
    guard !unfinished.isEmpty else { return print("all \(all.count) runs done") }
    print("\(all.count - unfinished.count) of \(all.count) runs done; not done (task, run, state):")
    for (index, (run, state)) in unfinished.prefix(50) { print("  \(index)  \(run.name)  [\(Self.describe(state))]") }
    if unfinished.count > 50 { print("  and \(unfinished.count - 50) more") }
  }

  /// `--slurm`: the array script in the runs folder, and how to submit it.
  func writeSlurmScript(_ grid: ExperimentGrid, _ all: [GridRun], _ states: [GridRunState], layout: GridLayout) throws {
    let onCUDA = all.contains { $0.configuration.device.isCUDA }
    let script = SlurmArrayScript(
      gridName: grid.name, runCount: all.count, executable: WorkerLauncher.currentExecutable, gridFile: Self.absolute(file),
      runs: Self.absolute(layout.folder.path), workingDirectory: Self.absolute(FileManager.default.currentDirectoryPath),
      directives: try slurmOptions.directives(defaultGPUs: onCUDA ? nprocPerNode ?? 1 : 0),
      throttle: try slurmOptions.throttle(), taskArguments: nprocPerNode.map { ["--nproc-per-node", String($0)] } ?? [])
    try script.write()
    let done = states.filter(\.isDone).count
    print("wrote \(script.file.path): an array of \(all.count) tasks (0-\(all.count - 1)), one per run of \(grid.name)"
      + (done > 0 ? "; \(done) done already (their tasks end at once)" : ""))
    print("submit it:    sbatch \(SlurmArrayScript.shellQuoted(script.file.path))")
    print("follow it:    squeue --me; SLURM's output in \(script.logFolder.path)/, each run's in \(layout.folder.path)/logs/")
    print("the table:    agr grid \(file) --runs \(SlurmArrayScript.shellQuoted(script.runs.path)) --table (any time)")
    if all.count > 1001 {
      print("note: SLURM's default MaxArraySize is 1001 (tasks 0-1000); a larger array needs the cluster's MaxArraySize raised")
    }
  }
}
