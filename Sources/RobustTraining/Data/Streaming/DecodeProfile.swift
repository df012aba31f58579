import Foundation

/// Where a streamed epoch's time goes (`agr bench-data --profile`): seconds summed over the decode threads for
/// reading files, reading headers and planning, decoding and resampling, and the reader's seconds making
/// batch tensors.
public final class DecodeProfile: @unchecked Sendable {
  public enum Part: String, CaseIterable, Sendable {
    case read, plan, decode, resample
    /// The reader: the decoded bytes into a float tensor.
    case batch
  }

  private let lock = NSLock()
  private var seconds = [Part: Double]()

  public init() {}

  func add(_ part: Part, _ value: Double) {
    lock.lock()
    seconds[part, default: 0] += value
    lock.unlock()
  }

  public func total(_ part: Part) -> Double {
    lock.lock()
    defer { lock.unlock() }
    return seconds[part] ?? 0
  }

  /// Seconds since `start` (from `DecodeProfile.now()`).
  static func since(_ start: UInt64) -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
  static func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
