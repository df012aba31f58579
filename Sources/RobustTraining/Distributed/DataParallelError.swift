/// What stops a data-parallel job, each with the rank it happened on where that is known.
public enum DataParallelError: Error, CustomStringConvertible, Equatable {
  /// A torchrun/SLURM variable is missing or malformed.
  case environment(String)
  /// The rendezvous at MASTER_ADDR:MASTER_PORT could not be set up.
  case rendezvous(rank: Int, String)
  /// A collective failed: another rank died, hung past the timeout or stopped.
  case collective(rank: Int, what: String, String)
  /// The ranks were started with different settings.
  case mismatch(String)
  /// A worker started by the launcher ended badly.
  case worker(rank: Int, String)

  public var description: String {
    switch self {
    case .environment(let detail): return "data-parallel environment: \(detail)"
    case .rendezvous(let rank, let detail): return "rank \(rank): rendezvous failed: \(detail)"
    case .collective(let rank, let what, let detail):
      return "rank \(rank): \(what) failed: another rank died, hung past the timeout or stopped (\(detail))"
    case .mismatch(let detail): return "data-parallel ranks disagree: \(detail)"
    case .worker(let rank, let detail): return "rank \(rank) \(detail)"
    }
  }
}
