// Shared helpers for the Torch tests: reading values out, comparing against hand-computed
// numbers, checking error messages, and checking autograd against finite differences.
import Testing
import Torch

/// The elements of `t` as Doubles (row-major).
func values(_ t: Tensor) throws -> [Double] { try t.toArray(Double.self) }

/// Expects `actual` to equal `expected` elementwise within `tolerance` (absolute, or relative
/// for magnitudes above 1).
func expectClose(_ actual: [Double], _ expected: [Double], tolerance: Double = 1e-6,
                 _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation)
{
  guard actual.count == expected.count else {
    Issue.record("\(what) count \(actual.count) != expected \(expected.count): \(actual)", sourceLocation: sourceLocation)
    return
  }
  var bad: [String] = []
  for i in actual.indices {
    let (a, e) = (actual[i], expected[i])
    if a.isNaN != e.isNaN || (!e.isNaN && Swift.abs(a - e) > tolerance * Swift.max(1, Swift.abs(e))) {
      bad.append("[\(i)] \(a) vs \(e)")
    }
  }
  #expect(bad.isEmpty, "\(what) mismatches: \(bad.prefix(8).joined(separator: ", "))", sourceLocation: sourceLocation)
}

/// Expects `t` to have `shape` (when given) and the `expected` elements.
func expectTensor(_ t: Tensor, _ expected: [Double], shape: [Int]? = nil, tolerance: Double = 1e-6,
                  sourceLocation: SourceLocation = #_sourceLocation) throws
{
  if let shape { #expect(t.shape == shape, "shape", sourceLocation: sourceLocation) }
  expectClose(try values(t), expected, tolerance: tolerance, sourceLocation: sourceLocation)
}

/// Runs `body`, which must throw a `TorchError` whose message contains `fragment`.
/// Returns the message for further checks.
@discardableResult
func expectTorchError(containing fragment: String, sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void) -> String?
{
  do {
    try body()
    Issue.record("expected a TorchError containing '\(fragment)', nothing was thrown", sourceLocation: sourceLocation)
  } catch let error as TorchError {
    #expect(error.message.contains(fragment), "message was: \(error.message)", sourceLocation: sourceLocation)
    return error.message
  } catch {
    Issue.record("expected a TorchError, got \(error)", sourceLocation: sourceLocation)
  }
  return nil
}

/// Runs `body`, which must throw a `TorchError` whose message contains one of `fragments`.
func expectTorchError(containingAny fragments: [String], sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: () throws -> Void)
{
  do {
    try body()
    Issue.record("expected a TorchError containing one of \(fragments), nothing was thrown", sourceLocation: sourceLocation)
  } catch let error as TorchError {
    #expect(fragments.contains { error.message.contains($0) }, "message was: \(error.message)",
            sourceLocation: sourceLocation)
  } catch {
    Issue.record("expected a TorchError, got \(error)", sourceLocation: sourceLocation)
  }
}

/// A float64 tensor with fixed pseudo-random entries in [-1, 1) (a small LCG, independent of libtorch).
func fixedTensor(_ shape: [Int], seed: UInt64) throws -> Tensor {
  var state = seed &* 6364136223846793005 &+ 1442695040888963407
  let n = shape.reduce(1, *)
  var v = [Double]()
  for _ in 0..<n {
    state = state &* 6364136223846793005 &+ 1442695040888963407
    v.append(Double(state >> 11) / Double(1 << 53) * 2 - 1)
  }
  return try Tensor(v, shape: shape)
}

/// Checks autograd's gradient of the scalar `f(inputs)` with respect to every element of every
/// input (float64 tensors) against central finite differences (f(x+h) - f(x-h)) / 2h.
func expectGradientsMatchFiniteDifferences(
  _ inputs: [Tensor], step h: Double = 1e-6, tolerance: Double = 1e-6,
  sourceLocation: SourceLocation = #_sourceLocation, _ f: ([Tensor]) throws -> Tensor
) throws {
  for x in inputs {
    #expect(x.dtype == .float64, "finite differences need float64 inputs", sourceLocation: sourceLocation)
    try x.requiresGrad(true)
  }
  let output = try f(inputs)
  #expect(output.count == 1, "f must give a scalar", sourceLocation: sourceLocation)
  let analytic = try Autograd.gradients(of: output, wrt: inputs)
  for (k, x) in inputs.enumerated() {
    let base = try values(x)
    let shape = x.shape
    let others = try inputs.map { try $0.detached() }
    func evaluate(_ i: Int, _ delta: Double) throws -> Double {
      var v = base
      v[i] += delta
      var args = others
      args[k] = try Tensor(v, shape: shape)
      return try Autograd.withNoGrad { try f(args).item() }
    }
    var numeric = [Double](repeating: 0, count: base.count)
    for i in base.indices { numeric[i] = (try evaluate(i, h) - evaluate(i, -h)) / (2 * h) }
    #expect(analytic[k].shape == shape, sourceLocation: sourceLocation)
    // Sanity: the check is vacuous if every derivative is zero.
    #expect(numeric.contains { Swift.abs($0) > 1e-3 }, "input \(k): all derivatives ~0", sourceLocation: sourceLocation)
    expectClose(try values(analytic[k]), numeric, tolerance: tolerance, "input \(k) gradient",
                sourceLocation: sourceLocation)
  }
}
