import Foundation

/// What an `agr train` or `agr eval` process started by `agr grid` tells the grid, in a small JSON file it
/// rewrites atomically (the file `AGR_GRID_STATUS` names): its state, the epochs it finished with their
/// summary lines, and why it failed. The grid reads this, never the process's output.
public struct GridChildStatus: Codable, Equatable, Sendable {
  public enum State: String, Codable, Sendable {
    case running, finished, failed, stopped
  }

  /// Why a process failed, where the grid acts on it.
  public enum Failure: String, Codable, Sendable {
    /// Another process holds the run directory (a killed grid's child that has not ended yet): retry.
    case runInUse = "run_in_use"
    case error
  }

  public var state: State = .running
  /// The summary line of each epoch this process finished, in order.
  public var epochLines: [String] = []
  public var failure: Failure? = nil
  public var error: String? = nil

  public init() {}

  /// The environment variable that names the file to a child.
  public static let variable = "AGR_GRID_STATUS"

  /// The file this process reports to, when a grid started it.
  public static var file: URL? {
    ProcessInfo.processInfo.environment[variable].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0) }
  }

  /// The status in `url` (nil: none written yet, or unreadable).
  public static func read(_ url: URL) -> GridChildStatus? {
    guard let data = try? Data(contentsOf: url) else { return nil }
    return try? JSONDecoder().decode(GridChildStatus.self, from: data)
  }

  /// Changes this process's status file, when a grid started it (read, changed, written atomically; a
  /// status that cannot be written is no reason to stop training).
  public static func update(_ change: (inout GridChildStatus) -> Void) {
    guard let file else { return }
    var status = read(file) ?? GridChildStatus()
    change(&status)
    guard let data = try? JSONEncoder().encode(status) else { return }
    try? AtomicFile.write(data, to: file)
  }

  /// Records a failure and its message; the first one recorded stays (a data-parallel rank's, before its
  /// launcher's).
  public static func recordFailure(_ error: Error, message: String) {
    update { status in
      status.state = .failed
      guard status.failure == nil else { return }
      if case TrainingError.runInUse = error { status.failure = .runInUse } else { status.failure = .error }
      status.error = message
    }
  }
}
