import Foundation
import Testing

@testable import Torch

/// The overlapped all-reduce: two ranks (threads) whose gradients are captured by parameter hooks during the
/// backward pass, bucket by bucket; every bucket starts before the pass returns, and `finish` hands back the
/// sums over ranks of each rank's gradient times its scale.
@Suite(.serialized) struct GradientReducerTests {
  /// loss_r = sum(c_r * w1) + sum(w2^2) * (r + 1) + 3 sum(w3): the gradients are c_r, 2 (r + 1) w2 and 3; in the
  /// second pass w3 is left out of the loss, so its gradient never comes.
  @Test func bucketsStartDuringTheBackwardPassAndSumOverRanks() throws {
    let port = try TCPStore.freeLoopbackPort()
    let errors = DistributedTests.ranks(2) { rank in
      let group = try DistributedTests.group(rank, 2, port: port)
      let w1 = try Tensor.full([4, 3], 0.5).requiresGrad(true)
      let w2 = try Tensor.full([5], 2).requiresGrad(true)
      let w3 = try Tensor.full([2], 1).requiresGrad(true)
      // 16 bytes: every tensor in a bucket of its own (w3 first: buckets run in reverse order)
      let reducer = try GradientReducer(group: group, parameters: [w1, w2, w3], bucketBytes: 16, slots: 2)
      #expect(reducer.bucketCount == 3)
      let scale = Double(rank + 2)
      for pass in 0..<2 {
        let c = try Tensor.full([4, 3], Double(rank + 1 + pass))
        var loss = try (c * w1).sum() + (w2 * w2).sum() * Double(rank + 1)
        if pass == 0 { loss = try loss + w3.sum() * 3 }
        let local = try reducer.capturing(slot: pass, scale: scale) {
          try Autograd.grad(of: [loss], wrt: [w1, w2, w3], allowUnused: true)
        }
        // every bucket started during the backward pass; without w3's gradient, its bucket (the first) never
        // completes and the others wait behind it, to start in the same order on every rank
        #expect(try reducer.startedBuckets(slot: pass) == (pass == 0 ? 3 : 0))
        #expect(try local[0]!.toArray(Float.self) == Array(repeating: Float(rank + 1 + pass), count: 12))
        let sums = try reducer.finish(slot: pass)
        // sum over r of (r + 2) * gradient_r
        let w1Sum = Float(2 * (1 + pass) + 3 * (2 + pass))
        #expect(try sums[0].toArray(Float.self) == Array(repeating: w1Sum, count: 12))
        #expect(sums[0].shape == [4, 3])
        #expect(try sums[1].toArray(Float.self) == Array(repeating: Float(2 * 2 * 2 + 3 * 2 * 2 * 2), count: 5))
        #expect(try sums[2].toArray(Float.self) == (pass == 0 ? [15, 15] : [0, 0]))
        #expect(try reducer.startedBuckets(slot: pass) == 0, "finish resets the slot")
      }
      // a pass armed twice, or finished while armed, is a programming error named as such
      try reducer.arm(slot: 0, scale: 1)
      #expect(throws: TorchError.self) { try reducer.arm(slot: 1, scale: 1) }
      #expect(throws: TorchError.self) { _ = try reducer.finish(slot: 0) }
      try reducer.disarm()
      _ = try reducer.finish(slot: 0)
    }
    for (rank, error) in errors.enumerated() { #expect(error == nil, "rank \(rank): \(String(describing: error))") }
  }
}
