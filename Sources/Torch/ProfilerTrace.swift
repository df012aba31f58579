import CTorch

/// A trace of what libtorch ran while some code ran, from PyTorch's own profiler (Kineto; on a GPU the
/// kernels too, through CUPTI), saved as a Chrome trace: the file `torch.profiler`'s
/// `export_chrome_trace` writes, so a trace of ours and one of a PyTorch program read the same way.
public enum ProfilerTrace {
  /// Runs `body` with the profiler on and saves the trace to `path`. `cuda`: record GPU activity too.
  public static func record<R>(to path: String, cuda: Bool, _ body: () throws -> R) throws -> R {
    try check(ctorch_profiler_start(cuda ? 1 : 0))
    let result: R
    do {
      result = try body()
    } catch {
      _ = ctorch_profiler_stop(nil)
      throw error
    }
    try check(ctorch_profiler_stop(path))
    return result
  }
}
