import Foundation

/// The range of a duration given in seconds (`--dist-timeout`): finite, at least a millisecond (the unit
/// c10d's timeouts are counted in; zero or less would fail every wait at once) and at most a week (past
/// that, a rank that died would hold the job for ever; 1e300 would overflow the milliseconds c10d takes).
/// The one check for such settings: the commands name their flag with it, `DataParallel` applies it too.
public enum DurationRange {
  public static let minimumSeconds = 0.001
  public static let maximumSeconds = 7 * 24 * 3600.0

  /// Why `seconds` is not a usable duration, or nil.
  public static func problem(seconds: Double) -> String? {
    guard seconds.isFinite else { return "must be a number of seconds, got \(seconds)" }
    guard seconds >= minimumSeconds else {
      return "must be at least \(minimumSeconds) s (a rank waits that long for the others), got \(String(format: "%g", seconds))"
    }
    guard seconds <= maximumSeconds else {
      return "must be at most \(Int(maximumSeconds)) s (a week), got \(String(format: "%g", seconds))"
    }
    return nil
  }
}
