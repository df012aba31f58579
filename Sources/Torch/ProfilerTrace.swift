import CTorch

/// A trace of what libtorch ran while some code ran, from PyTorch's own profiler (Kineto; on a GPU the
/// kernels too, through CUPTI), saved as a Chrome trace: the file `torch.profiler`'s
/// `export_chrome_trace` writes, so a trace of ours and one of a PyTorch program read the same way.
public enum ProfilerTrace {
  /// Runs `body` with the profiler on and saves the trace to `path`. `cuda`: record GPU activity too.
  public static func record<R>(to path: String, cuda: Bool, _ body: () throws -> R) throws -> R {
    // a failed body's trace is discarded
    try bracketed(begin: { ctorch_profiler_start(cuda ? 1 : 0) },
                  end: { succeeded in succeeded ? ctorch_profiler_stop(path) : ctorch_profiler_stop(nil) }, body)
  }
}
