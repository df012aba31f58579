import Foundation
import RobustTraining

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Runs a grid's unfinished runs as a queue of `agr train` and `agr eval` processes (this binary), one
/// per slot at a time: one slot by default, one per device with `--devices`. Each process writes its output
/// to a log file beside the runs (for people) and reports to the queue through a status file of its own
/// (`GridChildStatus`: state, epoch lines, failure); the queue prints when a run starts and finishes, and
/// each epoch's line.
final class GridQueue {
  /// One run's remaining work: its commands, in order.
  struct Job {
    let run: GridRun
    var commands: [(step: String, arguments: [String])]
    /// When its first command started.
    var started: Date? = nil
  }

  struct Running {
    let job: Job
    let step: String
    let process: Process
    let log: URL
    let status: URL
    /// Epoch lines of the status already printed.
    var linesShown: Int
    let started: Date
    var lockRetries: Int
  }

  let layout: GridLayout
  let slots: [Device?]
  let executable: URL
  private var pending: [Job]
  private var running: [Int: Running] = [:]
  private(set) var failed: [(run: String, log: URL)] = []
  private var finished = 0
  private let total: Int
  /// Called after each run finishes (the table is rewritten).
  var runFinished: () -> Void = {}

  init(jobs: [Job], layout: GridLayout, slots: [Device?], executable: URL) {
    pending = jobs
    total = jobs.count
    self.layout = layout
    self.slots = slots
    self.executable = executable
  }

  /// Runs every job; returns false when it was stopped (SIGINT / SIGTERM: the running processes are asked
  /// to stop too, and each keeps its last finished epoch).
  func run() throws -> Bool {
    var stopping = false
    while !(pending.isEmpty && running.isEmpty) {
      if StopRequest.isRequested && !stopping {
        stopping = true
        pending.removeAll()
        print("grid: stopping: asking \(running.count) running process(es) to stop at their next step")
        for item in running.values { kill(item.process.processIdentifier, SIGINT) }
      }
      for slot in slots.indices where running[slot] == nil && !stopping {
        guard !pending.isEmpty else { break }
        try start(pending.removeFirst(), slot: slot)
      }
      for slot in Array(running.keys) {
        guard var item = running[slot] else { continue }
        echoEpochLines(&item)
        running[slot] = item
        if !item.process.isRunning { try ended(slot, stopping: stopping) }
      }
      usleep(100_000)
    }
    return !stopping
  }

  private func start(_ job: Job, slot: Int, retries: Int = 0) throws {
    guard let command = job.commands.first else { return }
    var job = job
    job.started = job.started ?? Date()
    let log = layout.log(job.run, command.step)
    try FileManager.default.createDirectory(at: log.deletingLastPathComponent(), withIntermediateDirectories: true)
    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
    let handle = try FileHandle(forWritingTo: log)
    let status = layout.status(job.run, command.step)
    try? FileManager.default.removeItem(at: status)  // an earlier process's
    let process = Process()
    process.executableURL = executable
    process.arguments = command.arguments + ["--device", (slots[slot] ?? job.run.configuration.device).description]
    process.standardOutput = handle
    process.standardError = handle
    // The grid places its processes itself: SLURM's placement of the grid (in an array task or an allocation:
    // SLURM_NTASKS=1, SLURM_PROCID=0) would make each `agr train` take itself for a rank of a data-parallel job.
    var environment = ProcessInfo.processInfo.environment.filter { !Self.slurmPlacement.contains($0.key) }
    environment.merge([GridParent.variable: String(getpid()), GridChildStatus.variable: status.path]) { $1 }
    process.environment = environment
    try process.run()
    try? handle.close()
    let device = slots[slot].map { " on \($0)" } ?? ""
    if retries == 0 {
      print("[\(finished + running.count + 1)/\(total)] \(job.run.name): \(command.step)\(device) (log: \(log.path))")
    }
    running[slot] = Running(job: job, step: command.step, process: process, log: log, status: status, linesShown: 0,
                            started: Date(), lockRetries: retries)
  }

  /// The variables by which `srun` places a data-parallel rank (`DistributedEnvironment`).
  static let slurmPlacement: Set<String> = ["SLURM_NTASKS", "SLURM_PROCID", "SLURM_LOCALID"]

  private func ended(_ slot: Int, stopping: Bool) throws {
    guard var item = running.removeValue(forKey: slot) else { return }
    echoEpochLines(&item)
    let status = item.process.terminationStatus
    if status == 0 {
      var job = item.job
      job.commands.removeFirst()
      if job.commands.isEmpty {
        finished += 1
        print("\(item.job.run.name): done in \(formatDuration(Date().timeIntervalSince(item.job.started ?? item.started)))")
        runFinished()
      } else if !stopping {
        try start(job, slot: slot)
      }
      return
    }
    let report = GridChildStatus.read(item.status)
    // A process of a killed grid ends within a fraction of a second; until then it holds the run's lock.
    if report?.failure == .runInUse, item.lockRetries < 20, !stopping {
      usleep(500_000)
      try start(item.job, slot: slot, retries: item.lockRetries + 1)
      return
    }
    if stopping || status == 130 {
      print("\(item.job.run.name): stopped during \(item.step); agr grid continues it when started again")
      return
    }
    let reason = report?.error.map { "error: \($0)" } ?? "exit status \(status)"
    print("\(item.job.run.name): \(item.step) failed: \(reason) (log: \(item.log.path))")
    failed.append((item.job.run.name, item.log))
  }

  /// Prints the epoch lines the process reported in its status file since the last look.
  private func echoEpochLines(_ item: inout Running) {
    guard let lines = GridChildStatus.read(item.status)?.epochLines, lines.count > item.linesShown else { return }
    for line in lines[item.linesShown...] { print("  \(item.job.run.name): \(line)") }
    item.linesShown = lines.count
  }
}

/// A process that `agr grid` starts ends with it: when the grid is killed (kill -9 included), its
/// `agr train` and `agr eval` children notice that their parent is gone and end too, so that a grid
/// started again finds no orphan holding a run directory. The checkpoint of a run is written so that
/// it survives any kill, so ending at once loses at most the epoch in progress.
public enum GridParent {
  /// The environment variable that names the grid to a child.
  static let variable = "AGR_GRID_PARENT"

  /// Starts watching in a process started by `agr grid`. Not passed on: the ranks a data-parallel
  /// `agr train` starts have that process, not the grid, as parent.
  public static func watchIfAsked() {
    ParentWatch.start(watching: variable, passOn: false, every: 0.2) { _ in kill(getpid(), SIGKILL) }
  }
}
