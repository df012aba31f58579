import CTorch

/// The ATen operations libtorch dispatched while some code ran, counted with the hook PyTorch's
/// profiler uses: those that do work themselves (no operation they dispatched did work, and they are
/// not views, metadata reads or bare allocations). A proxy for the kernels the code launches on a GPU,
/// measurable on any device and counted the same way for PyTorch programs (`scripts/count_torch_ops.py`).
public struct OperationCensus: Sendable, Equatable {
  /// Working operations by name ("aten::add_"), with how often each ran.
  public let operations: [String: Int]
  /// All dispatched operations, wrappers and views included.
  public let dispatched: Int

  /// Working operations in all (kernel launches on a GPU, roughly).
  public var kernels: Int { operations.values.reduce(0, +) }

  /// Values read back to the host (on a GPU: a synchronisation and a copy each).
  public var hostReads: Int { operations["aten::_local_scalar_dense", default: 0] }

  /// Runs `body` with a census open; at most one census at a time, in any thread.
  public static func count<R>(_ body: () throws -> R) throws -> (result: R, census: OperationCensus) {
    let result = try bracketed(begin: { ctorch_op_census_start() }, end: { _ in ctorch_op_census_stop() }, body)
    var needed = 0
    var calls: Int64 = 0
    try check(ctorch_op_census_report(nil, 0, &needed, &calls))
    var buffer = [CChar](repeating: 0, count: needed)
    try check(ctorch_op_census_report(&buffer, buffer.count, &needed, &calls))
    var operations: [String: Int] = [:]
    for line in String(cString: buffer).split(separator: "\n") {
      let parts = line.split(separator: "\t")
      if parts.count == 2, let n = Int(parts[1]) { operations[String(parts[0])] = n }
    }
    return (result, OperationCensus(operations: operations, dispatched: Int(calls)))
  }
}
