import Foundation

/// A request to stop training at the next step boundary (Ctrl-C): `install()` makes SIGINT and SIGTERM
/// set it, and a second signal ends the process at once. The trainer checks it after every step.
public enum StopRequest {
  nonisolated(unsafe) private static var requested: sig_atomic_t = 0

  public static var isRequested: Bool { requested != 0 }

  public static func install() {
    // A parent may have blocked them (the mask is inherited across exec); the handler would never run.
    var unblock = sigset_t()
    sigemptyset(&unblock)
    sigaddset(&unblock, SIGINT)
    sigaddset(&unblock, SIGTERM)
    sigprocmask(SIG_UNBLOCK, &unblock, nil)
    for signalNumber in [SIGINT, SIGTERM] {
      signal(signalNumber) { number in
        StopRequest.requested = 1
        signal(number, SIG_DFL)
      }
    }
  }

  /// Sets or clears the request (for tests and embedding programs).
  public static func set(_ on: Bool) { requested = on ? 1 : 0 }
}
