import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A process that `agr grid` starts ends with it: when the grid is killed (kill -9 included), its
/// `agr train` and `agr eval` children notice that their parent is gone and end too, so that a grid
/// started again finds no orphan holding a run directory. The checkpoint of a run is written so that
/// it survives any kill, so ending at once loses at most the epoch in progress.
public enum ParentWatch {
  /// The environment variable that names the parent to watch.
  static let variable = "AGR_GRID_PARENT"

  /// Starts watching when the environment asks for it (a process started by `agr grid`).
  public static func startIfAsked() {
    guard let text = ProcessInfo.processInfo.environment[variable], let parent = pid_t(text) else { return }
    // Not passed on: the ranks a data-parallel `agr train` starts have that process, not the grid, as parent.
    unsetenv(variable)
    let thread = Thread {
      while true {
        if getppid() != parent { kill(getpid(), SIGKILL) }
        usleep(200_000)
      }
    }
    thread.start()
  }
}
