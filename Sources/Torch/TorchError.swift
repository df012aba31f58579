import CTorch

/// An error raised by libtorch (its message, unchanged) or by this library's argument checks.
public struct TorchError: Error, CustomStringConvertible, Equatable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }

  static func last() -> TorchError {
    TorchError(String(cString: ctorch_last_error()))
  }
}

@inline(__always)
func check(_ status: Int32) throws {
  if status != 0 { throw TorchError.last() }
}

/// Runs `body` between two shim calls that open and close something (a census, a profiler, a capture):
/// `end` runs whether or not `body` throws and is told which; its own failure is reported only after a
/// `body` that succeeded (otherwise `body`'s error is the one thrown).
func bracketed<R>(begin: () -> Int32, end: (_ succeeded: Bool) -> Int32, _ body: () throws -> R) throws -> R {
  try check(begin())
  let result: R
  do {
    result = try body()
  } catch {
    _ = end(false)
    throw error
  }
  try check(end(true))
  return result
}

/// Runs a shim call that returns one new tensor through an out-parameter.
@inline(__always)
func make(_ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) throws -> Tensor {
  var out: OpaquePointer?
  try check(call(&out))
  guard let handle = out else { throw TorchError("libtorch returned no tensor") }
  return Tensor(handle: handle)
}

/// Runs a shim call that returns two new tensors (values, indices).
@inline(__always)
func makePair(
  _ call: (UnsafeMutablePointer<OpaquePointer?>, UnsafeMutablePointer<OpaquePointer?>) -> Int32
) throws -> (Tensor, Tensor) {
  var a: OpaquePointer?
  var b: OpaquePointer?
  try check(call(&a, &b))
  guard let a, let b else { throw TorchError("libtorch returned no tensor") }
  return (Tensor(handle: a), Tensor(handle: b))
}

/// Passes the handles of `tensors` to `body`, keeping the tensors alive meanwhile.
@inline(__always)
func withHandles<R>(_ tensors: [Tensor], _ body: (UnsafePointer<OpaquePointer?>) throws -> R) rethrows -> R {
  let handles: [OpaquePointer?] = tensors.map { $0.handle }
  return try withExtendedLifetime(tensors) {
    try handles.withUnsafeBufferPointer { try body($0.baseAddress!) }
  }
}

/// Calls a shim function that writes `count` new tensors into an array of handles.
func makeList(count: Int, _ call: (UnsafeMutablePointer<OpaquePointer?>) -> Int32) throws -> [Tensor] {
  var out = [OpaquePointer?](repeating: nil, count: count)
  try check(out.withUnsafeMutableBufferPointer { call($0.baseAddress!) })
  return try out.map {
    guard let h = $0 else { throw TorchError("libtorch returned no tensor") }
    return Tensor(handle: h)
  }
}
