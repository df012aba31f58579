/// A function of a few tensors replayed from a CUDA graph: the first call records it (after one
/// warm-up run on the graph's stream), later calls copy their inputs into the recorded input tensors
/// and replay. Inputs of another shape or layout than the recorded ones run `body` directly.
///
/// `body` must be a function of its inputs and of state that lives in place (model weights): no
/// host waits, no random numbers from host generators, no effects beyond its outputs (the warm-up
/// run is discarded). The returned tensors are overwritten by the next call: copy what must outlive it.
public final class GraphedFunction {
  public let device: Int
  let body: ([Tensor]) throws -> [Tensor]
  let ifRecordingFails: GraphRecordingFailure
  private var recorded: (graph: CUDAGraph, inputs: [Tensor], outputs: [Tensor])?
  /// Calls that ran `body` directly (inputs unlike the recorded ones, or recording failed).
  public private(set) var directCalls = 0
  /// Why recording failed, after which every call runs `body` directly (nil: the graph is in use).
  public private(set) var disabledReason: String?

  public init(device: Int, ifRecordingFails: GraphRecordingFailure = .runPlain(),
              _ body: @escaping ([Tensor]) throws -> [Tensor])
  {
    self.device = device
    self.ifRecordingFails = ifRecordingFails
    self.body = body
  }

  public func callAsFunction(_ inputs: [Tensor]) throws -> [Tensor] {
    if disabledReason != nil {
      directCalls += 1
      return try body(inputs)
    }
    if recorded == nil {
      do {
        let graph = try CUDAGraph(device: device)
        let staticInputs = try inputs.map { try $0.clone() }
        _ = try graph.onSideStream { try body(staticInputs) }
        let outputs = try graph.capture { try body(staticInputs) }
        recorded = (graph, staticInputs, outputs)
      } catch {
        guard case .runPlain(let report) = ifRecordingFails else {
          throw TorchError("the computation could not be recorded as a CUDA graph: \(error)")
        }
        disabledReason = "\(error)"
        report?("\(error)")
        directCalls += 1
        return try body(inputs)
      }
    }
    let (graph, staticInputs, outputs) = recorded!
    guard inputs.count == staticInputs.count,
      zip(inputs, staticInputs).allSatisfy({ $0.shape == $1.shape && $0.strides == $1.strides && $0.dtype == $1.dtype })
    else {
      directCalls += 1
      return try body(inputs)
    }
    for (s, x) in zip(staticInputs, inputs) where s !== x { try s.copy_(x) }
    try graph.replay()
    return outputs
  }
}
