import ArgumentParser
import Foundation
import RobustTraining
import RobustTrainingBench

struct Grid: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run an experiment grid: every combination of its axes trained, evaluated and tabulated.",
    discussion: """
      FILE holds a preset, fixed settings and axes (configuration keys with lists of values; see grids/ and \
      docs/grids.md). Every combination is one run in RUNS/<name>, named by its axis values \
      (e.g. trades_agr_seed1). Runs go one after another, or one per device at once with --devices, \
      each data-parallel with --nproc-per-node. \
      Started again, the grid skips finished runs and resumes interrupted ones (also after kill -9). Each \
      finished run's best.safetensors is evaluated (agr eval: PGD on the test set, AutoAttack on its first \
      images), and RUNS/results.{md,csv,html} get the table: per cell (the runs that differ only in their \
      seed) mean ± std of final and best clean / PGD / AutoAttack accuracy and training time, and AGR minus \
      baseline per method. \
      On a cluster: --slurm writes an sbatch --array script (one array task per run, each agr grid FILE --task I); \
      --table gathers the table from the runs that have finished.
      """)

  @Argument(help: "The grid file (JSON, or YAML when named .yaml / .yml).") var file: String
  @Option(help: "Folder of the grid's runs and results (default: runs/<grid file name>).") var runs: String?
  @Option(help: "Run one run per device at once, e.g. cuda:0,cuda:1 (default: one at a time, on each run's own device).")
  var devices: String?
  @Option(parsing: .unconditional, help: "Train each run data-parallel with N ranks on this machine (agr train --nproc-per-node: CPU ranks over Gloo).")
  var nprocPerNode: Int?
  @Flag(help: "List the runs, their state and the projected time; start nothing.") var dryRun = false
  @Option(help: "The output of agr bench --json on the target machine, for --dry-run's projected time.") var bench: String?
  @Flag(name: [.customLong("table"), .customLong("table-only")],
        help: "Only write the table from the runs that have finished, and name those that have not; start nothing.")
  var table = false
  @Option(help: ArgumentHelp("Run only run I of the grid (0-based, in --dry-run's order): train it, then evaluate it, "
                             + "beside other tasks on the same runs folder (a SLURM array task's job).", valueName: "I"))
  var task: Int?
  @Flag(help: "Write an sbatch --array script into the runs folder (--runs needed): one array task per run.")
  var slurm = false
  @OptionGroup(title: "SLURM (with --slurm)") var slurmOptions: SlurmOptions

  func run() throws { try reportingErrors(Grid.self, execute) }

  private func execute() throws {
    let grid: ExperimentGrid
    let all: [GridRun]
    do {
      grid = try ExperimentGrid.read(from: URL(fileURLWithPath: file))
      all = try grid.runs()
    } catch let error as GridError { throw CommandError("\(error)\nnothing was started") }
    let slots = try parseDevices()
    if let nprocPerNode, let problem = WorkerLauncher.processCountProblem(nprocPerNode) {
      throw ValidationError("--nproc-per-node \(problem)")
    }
    try checkSlurmFlags()
    if runs == nil, let problem = PathComponentName.problem(grid.name) {
      throw CommandError("\(file): the grid's name \(PathComponentName.quoted(grid.name)) (its file name) \(problem), so it "
        + "cannot name the runs folder: give --runs FOLDER\nnothing was started")
    }
    if let task, !all.indices.contains(task) {
      throw ValidationError("--task: the grid \(file) has \(all.count) runs, so the task is one of 0-\(all.count - 1), got \(task)")
    }
    let layout = GridLayout(folder: URL(fileURLWithPath: runs ?? "runs/\(grid.name)"), evaluation: grid.evaluation)
    if let task { return try runTask(all[task], index: task, of: all.count, grid: grid, layout: layout, slot: slots[0]) }
    // Every run's state first: a folder that holds a run of other settings stops the grid before anything starts.
    let states: [GridRunState]
    do { states = try all.map { try layout.state(of: $0) } } catch let error as GridError {
      throw CommandError("\(error)\nnothing was started")
    }
    if dryRun { return try printPlan(grid, all, states, layout: layout, slots: slots.count) }
    if slurm { return try writeSlurmScript(grid, all, states, layout: layout) }
    let title = "Grid \(grid.name)" + (grid.summary.map { ": \($0)" } ?? "")
    func writeTable() throws -> GridTable {
      let table = GridTable(title: title, evaluation: grid.evaluation, results: all.map { GridRunResult.read($0, layout: layout) })
      try table.write(to: layout.folder)
      return table
    }
    if table {
      print(try writeTable().markdown)
      print("table: \(layout.folder.path)/results.{md,csv,html}")
      printUnfinished(all, states)
      return
    }
    // One grid at a time per folder (the same lock as a run directory's: it ends with the process).
    let lock = try RunDirectory(layout.folder).lock()
    defer { withExtendedLifetime(lock) {} }
    let jobs = try zip(all, states).compactMap { run, state in try job(run, state, layout: layout) }
    let done = all.count - jobs.count
    print("grid \(grid.name): \(all.count) runs in \(layout.folder.path); \(done) done, \(jobs.count) to run"
      + (slots.count > 1 ? " on \(slots.count) devices at once" : ""))
    StopRequest.install()
    let assigned = GridQueue(jobs: jobs, layout: layout, slots: slots, executable: WorkerLauncher.currentExecutable)
    assigned.runFinished = { _ = try? writeTable() }
    let completed = try assigned.run()
    let table = try writeTable()
    print("")
    print(table.markdown)
    print("table: \(layout.folder.path)/results.{md,csv,html}")
    guard completed else {
      FileHandle.standardError.write(Data("grid stopped; run agr grid \(file) again to continue where it stopped\n".utf8))
      throw ExitCode(130)
    }
    if !assigned.failed.isEmpty {
      throw CommandError("\(assigned.failed.count) run(s) failed: "
        + assigned.failed.map { "\($0.run) (\($0.log.path))" }.joined(separator: ", "))
    }
  }

  /// The commands a run still needs (the queue adds the device), or nil when it is done.
  func job(_ run: GridRun, _ state: GridRunState, layout: GridLayout) throws -> GridQueue.Job? {
    let directory = layout.run(run).url.path
    let parallel = nprocPerNode.map { ["--nproc-per-node", String($0)] } ?? []
    var commands: [(String, [String])] = []
    switch state {
    case .done: return nil
    case .new:
      let file = try layout.writeConfiguration(run)
      commands.append(("train", ["train", "--config", file.path, "--output", directory] + parallel))
    case .partial:
      commands.append(("train", ["train", "--resume", directory] + parallel))
    case .trained: break
    }
    let missing: Set<String>? = if case .trained(let names) = state { Set(names) } else { nil }
    for evaluation in layout.evaluations(run) where missing?.contains(evaluation.attack) ?? true {
      commands.append(("eval-\(evaluation.attack)", ["eval", "\(directory)/best.safetensors", "--attacks", evaluation.attack,
                                                     "--batch-size", String(layout.evaluation.batchSize),
                                                     "--output", evaluation.report.path]
                        + (evaluation.examples.map { ["--n-examples", String($0)] } ?? [])))
    }
    return GridQueue.Job(run: run, commands: commands)
  }

  private func parseDevices() throws -> [Device?] {
    guard let devices else { return [nil] }
    let list = devices.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    guard !list.isEmpty else { throw ValidationError("--devices: name at least one device, e.g. cuda:0,cuda:1") }
    return try list.map { text in
      do { return try Device(parsing: text) } catch { throw ValidationError("--devices: \(error)") }
    }
  }

  private func printPlan(_ grid: ExperimentGrid, _ runs: [GridRun], _ states: [GridRunState], layout: GridLayout, slots: Int) throws {
    let projection = try bench.map { try GridProjection(benchJSON: URL(fileURLWithPath: $0)) }
    print("agr grid --dry-run: \(grid.name), \(runs.count) runs in \(layout.folder.path) (nothing started)")
    var total = 0.0
    var unknown = 0
    for (index, (run, state)) in zip(runs, states).enumerated() {
      let c = run.configuration
      var line = "  \(index)  \(run.name)  \(c.dataset) \(c.model.rawValue) \(c.method.rawValue)\(c.awp == true ? "+awp" : "")"
        + "\(c.agr && c.method.isAdversarial ? "+agr" : "") seed \(c.seed), \(c.epochs) epochs  [\(Self.describe(state))]"
      if let estimate = projection?.estimate(c) {
        if let seconds = estimate.seconds, !state.isDone {
          total += seconds * Self.remainingShare(state)
          line += "  ~\(formatDuration(seconds))"
        } else if estimate.seconds == nil {
          unknown += 1
          line += "  (\(estimate.basis))"
        }
      }
      print(line)
    }
    guard let projection else {
      print("projected time: give --bench FILE, the output of `agr bench --json --model M --method all --agr both` "
        + "on the machine that will train")
      return
    }
    print("projected training time: \(formatDuration(total))\(slots > 1 ? " of device time, about \(formatDuration(total / Double(slots))) on \(slots) devices" : "")"
      + (unknown > 0 ? " (\(unknown) runs without a bench figure not counted)" : "")
      + "; from the step times in \(projection.source) (training steps and per-epoch PGD evaluation; the final "
      + "PGD and AutoAttack evaluations not included)")
  }

  static func describe(_ state: GridRunState) -> String {
    switch state {
    case .new: return "to train"
    case .partial(let epochs, let of): return "resume at epoch \(epochs + 1) of \(of)"
    case .trained(let missing): return "trained; to evaluate: \(missing.joined(separator: ", "))"
    case .done: return "done"
    }
  }

  static func remainingShare(_ state: GridRunState) -> Double {
    if case .partial(let epochs, let of) = state { return Double(of - epochs) / Double(max(of, 1)) }
    return state == .new ? 1 : 0
  }
}
