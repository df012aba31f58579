import CTorch

/// What a graphed computation (`GraphedFunction`, RobustTraining's `GraphedTrainingStep`) does when its
/// graph cannot be recorded.
public enum GraphRecordingFailure {
  /// Throw (e.g. a benchmark, whose timing would otherwise be of something else).
  case fail
  /// Run without a graph from then on (same results, no speed-up); `report` hears the reason once.
  case runPlain(report: ((String) -> Void)? = nil)
}

/// A CUDA graph: the GPU work of a piece of code, recorded once and replayed with one launch, which
/// removes the host's per-kernel launch cost (what bounds small-batch training on a fast GPU).
///
/// A replay repeats the recorded kernels on the same memory: inputs must be copied into the tensors
/// the capture read, results are read from the tensors it produced (overwritten by the next replay),
/// and host-side values (Swift numbers passed to operations) are frozen at capture time. Code that
/// makes the host wait for the GPU (`item()`, host copies, boolean-mask indexing) cannot be captured.
///
/// Needs `libctorch_cuda_graphs.so` (`scripts/build-cuda-graphs.sh`), opened on first use from beside
/// the executable or `$AGR_CUDA_GRAPHS_LIBRARY`.
public final class CUDAGraph {
  let handle: OpaquePointer
  public let device: Int
  public private(set) var isCaptured = false

  public init(device: Int = 0) throws {
    var out: OpaquePointer?
    try check(ctorch_graph_new(Int32(device), &out))
    guard let out else { throw TorchError("CUDA graph: no handle returned") }
    handle = out
    self.device = device
  }

  deinit { ctorch_graph_free(handle) }

  /// Opens the graphs library now (`path`, else the default places), to report a missing one early.
  public static func loadLibrary(path: String? = nil) throws { try check(ctorch_graph_library_load(path)) }

  /// Runs `body` on the stream the graph is captured on: warm-up work before `capture`, so that what
  /// libraries create lazily per stream exists before recording starts. Synchronises the device.
  public func onSideStream<R>(_ body: () throws -> R) throws -> R {
    try check(ctorch_graph_side_stream_enter(handle))
    defer { _ = ctorch_graph_side_stream_exit(handle) }
    return try body()
  }

  /// Records the GPU work `body` queues (the work does not run). What `body` returns stays valid
  /// and holds each replay's results.
  public func capture<R>(_ body: () throws -> R) throws -> R {
    guard !isCaptured else { throw TorchError("CUDA graph: already captured") }
    let result = try bracketed(begin: { ctorch_graph_capture_begin(handle) }, end: { _ in ctorch_graph_capture_end(handle) }) {
      do { return try body() } catch { throw TorchError("CUDA graph capture failed: \(error)") }
    }
    isCaptured = true
    return result
  }

  /// Launches the recorded work on the current stream (asynchronous, like any kernel launch).
  public func replay() throws {
    guard isCaptured else { throw TorchError("CUDA graph: replay before capture") }
    try check(ctorch_graph_replay(handle))
  }
}
