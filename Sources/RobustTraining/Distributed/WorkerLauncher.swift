import Foundation

/// Starts this machine's ranks of a data-parallel job as child processes (as torchrun's
/// `--nproc-per-node` does) and supervises them: a rank that fails ends the job (the others are
/// stopped and the failing rank is named); SIGINT/SIGTERM sent to the launcher reach every rank.
/// On several machines, one launcher per machine, each with its `nodeRank`, all with rank 0's address.
public struct WorkerLauncher {
  public var executable: URL
  public var arguments: [String]
  /// Ranks on this machine.
  public var processCount: Int
  public var nodeCount = 1
  public var nodeRank = 0
  public var masterAddress = "127.0.0.1"
  public var masterPort: Int
  /// How long ranks have to stop after the first failure before they are killed.
  public var graceSeconds = 10.0

  public init(executable: URL, arguments: [String], processCount: Int, masterPort: Int) {
    self.executable = executable
    self.arguments = arguments
    self.processCount = processCount
    self.masterPort = masterPort
  }

  /// The most ranks one launcher starts on this machine: four per CPU core, at least 8. CPU ranks share the
  /// cores (each gets OMP_NUM_THREADS = cores / ranks), so more only add processes, memory and rendezvous time.
  public static var maximumProcessCount: Int { max(8, 4 * ProcessInfo.processInfo.activeProcessorCount) }

  /// The most machines one job spans (so that ranks and world size stay far from overflowing).
  public static let maximumNodeCount = 65_536

  /// Why `count` ranks cannot be started on this machine, or nil; `minimum`: the fewest that make sense.
  public static func processCountProblem(_ count: Int, minimum: Int = 1) -> String? {
    if count < minimum { return "must be at least \(minimum), got \(count)" }
    if count > maximumProcessCount {
      return "must be at most \(maximumProcessCount) on this machine (4 ranks per CPU core, "
        + "\(ProcessInfo.processInfo.activeProcessorCount) cores), got \(count)"
    }
    return nil
  }

  /// The path of the running executable (to start copies of it).
  public static var currentExecutable: URL {
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: path)
  }

  /// Runs the job; returns its exit status: 0 when every rank succeeded, 130 when stopped by a signal
  /// (Ctrl-C), else the first failing rank's status. `report` receives the supervisor's messages.
  public func run(report: @escaping (String) -> Void) throws -> Int32 {
    let done = DispatchSemaphore(value: 0)
    let threads = max(1, ProcessInfo.processInfo.activeProcessorCount / processCount)
    // signals are forwarded from before the first rank starts, so none is lost or leaves ranks behind
    let ranks = Ranks()
    let forwarded = forwardSignals(to: ranks)
    defer { for source in forwarded { source.cancel() } }
    var processes: [Process] = []
    for rank in 0..<processCount {
      let process = Process()
      process.executableURL = executable
      process.arguments = arguments
      var environment = ProcessInfo.processInfo.environment
      let place = DistributedEnvironment(rank: nodeRank * processCount + rank, worldSize: nodeCount * processCount,
                                         localRank: rank, masterAddress: masterAddress, masterPort: masterPort)
      environment.merge(place.variables) { $1 }
      environment["LOCAL_WORLD_SIZE"] = String(processCount)
      // as torchrun: N ranks on one machine share its cores rather than each taking all of them
      if environment["OMP_NUM_THREADS"] == nil { environment["OMP_NUM_THREADS"] = String(threads) }
      environment[Self.launcherVariable] = String(getpid())
      process.environment = environment
      process.terminationHandler = { _ in done.signal() }
      do { try process.run() } catch {
        for started in processes { started.terminate() }
        throw DataParallelError.worker(rank: rank, "could not be started: \(executable.path): \(error)")
      }
      processes.append(process)
      ranks.add(process)
    }
    var running = Set(0..<processCount)
    var failure: (rank: Int, status: Int32)?
    var deadline: Date?
    while !running.isEmpty {
      let timeout: DispatchTime = deadline.map { .now() + max(0, $0.timeIntervalSinceNow) } ?? .distantFuture
      if done.wait(timeout: timeout) == .timedOut {
        for rank in running {
          report("rank \(rank) did not stop within \(Int(graceSeconds)) s of the failure; killing it")
          kill(processes[rank].processIdentifier, SIGKILL)
        }
        deadline = nil
        continue
      }
      for rank in running where !processes[rank].isRunning {
        running.remove(rank)
        let process = processes[rank]
        let status = process.terminationStatus
        let bySignal = process.terminationReason == .uncaughtSignal
        guard status != 0 || bySignal else { continue }
        // after Ctrl-C every rank stops at the same step with 130: that is the job stopping, not failing
        if ranks.stopSignal != nil && status == 130 && !bySignal {
          if failure == nil { failure = (rank, 130) }
          continue
        }
        if failure == nil {
          failure = (rank, bySignal ? 128 + status : status)
          let global = nodeRank * processCount + rank
          report(bySignal ? "rank \(global) was killed by signal \(status)\(Self.signalName(status))"
                          : "rank \(global) exited with status \(status)")
          if !running.isEmpty {
            report("stopping the other ranks")
            for other in running {
              processes[other].terminate()
              kill(processes[other].processIdentifier, SIGCONT)  // a stopped (hung) rank gets to handle it
            }
            deadline = Date().addingTimeInterval(graceSeconds)
          }
        }
      }
    }
    guard let failure else { return 0 }
    return failure.status == 130 || failure.status == 128 + SIGINT ? 130 : failure.status
  }

  /// The variable that tells a rank its launcher's process id (a rank whose launcher is gone stops).
  public static let launcherVariable = "AGR_LAUNCHER_PID"

  /// In a rank started by a launcher: ends this process within a second of the launcher's end (killed
  /// hard, it could not stop its ranks), so that no rank outlives its job.
  public static func exitWithLauncher() {
    ParentWatch.start(watching: launcherVariable, passOn: true, every: 1) { launcher in
      FileHandle.standardError.write(Data("error: the launcher (process \(launcher)) is gone; this rank stops\n".utf8))
      _exit(1)
    }
  }

  /// SIGINT and SIGTERM sent to the launcher go to every rank (which stop together at the next step).
  /// The ranks run in process groups of their own, so a terminal's Ctrl-C reaches them only this way, once.
  private func forwardSignals(to ranks: Ranks) -> [DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
      signal(number, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { ranks.signal(number) }
      source.resume()
      return source
    }
  }

  /// The ranks started so far and the stop signal received, if any (a rank started after it gets it too).
  private final class Ranks: @unchecked Sendable {
    private let lock = NSLock()
    private var processes: [Process] = []
    private var received: Int32?
    var stopSignal: Int32? { lock.withLock { received } }

    func add(_ process: Process) {
      let pending = lock.withLock { () -> Int32? in
        processes.append(process)
        return received
      }
      if let pending { kill(process.processIdentifier, pending) }
    }

    func signal(_ number: Int32) {
      let targets = lock.withLock { () -> [Process] in
        received = number
        return processes
      }
      for process in targets where process.isRunning { kill(process.processIdentifier, number) }
    }
  }

  private static func signalName(_ number: Int32) -> String {
    switch number {
    case SIGKILL: return " (SIGKILL)"
    case SIGTERM: return " (SIGTERM)"
    case SIGINT: return " (SIGINT)"
    case SIGSEGV: return " (SIGSEGV)"
    case SIGABRT: return " (SIGABRT)"
    default: return ""
    }
  }
}
