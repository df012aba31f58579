import Foundation

/// Ends a child process soon after the parent that started it is gone (killed with SIGKILL, it could not
/// stop its children): the parent names itself in an environment variable, and the child polls its
/// parent process id. `agr grid` watches its `agr train` / `agr eval` children this way, and a
/// data-parallel launcher its ranks.
public enum ParentWatch {
  /// Starts watching when `variable` names a process id. `passOn: false` removes the variable, so that
  /// this process's own children watch it rather than their grandparent. `whenGone` runs once.
  public static func start(watching variable: String, passOn: Bool, every seconds: Double,
                           whenGone: @escaping @Sendable (pid_t) -> Void)
  {
    guard let text = ProcessInfo.processInfo.environment[variable], let parent = pid_t(text) else { return }
    if !passOn { unsetenv(variable) }
    let timer = DispatchSource.makeTimerSource(queue: .global())
    timer.schedule(deadline: .now() + seconds, repeating: seconds)
    timer.setEventHandler {
      guard getppid() != parent else { return }
      timer.cancel()
      whenGone(parent)
    }
    timer.resume()
    watchers.append(timer)
  }

  nonisolated(unsafe) private static var watchers: [DispatchSourceTimer] = []
}
