import Foundation
import Testing

@testable import Torch

/// c10d through the shim: a TCPStore and a Gloo group over loopback, the ranks as threads of this process.
@Suite(.serialized) struct DistributedTests {
  /// Runs `body(rank)` on `worldSize` threads at once (each rank blocks in the rendezvous until all arrive).
  static func ranks(_ worldSize: Int, _ body: @escaping @Sendable (Int) throws -> Void) -> [Error?] {
    let done = DispatchGroup()
    let results = Results(count: worldSize)
    for rank in 0..<worldSize {
      done.enter()
      Thread {
        do { try body(rank) } catch { results.set(rank, error) }
        done.leave()
      }.start()
    }
    done.wait()
    return results.errors
  }

  final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var errors: [Error?]
    init(count: Int) { errors = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ error: Error) { lock.withLock { errors[rank] = error } }
  }

  static func group(_ rank: Int, _ worldSize: Int, port: Int, timeout: Double = 20) throws -> ProcessGroup {
    let store = try TCPStore(host: "127.0.0.1", port: port, isServer: rank == 0, worldSize: worldSize, timeoutSeconds: timeout)
    return try ProcessGroup(gloo: store, rank: rank, worldSize: worldSize, hostname: "127.0.0.1", timeoutSeconds: timeout)
  }

  @Test func allReduceBroadcastAndStoreAcrossThreeRanks() throws {
    let port = try TCPStore.freeLoopbackPort()
    let errors = Self.ranks(3) { rank in
      let group = try Self.group(rank, 3, port: port)
      let values = try Tensor.full([5], Double(rank + 1))
      try group.allReduceSum(values)
      #expect(try values.toArray(Float.self) == Array(repeating: 6, count: 5))
      let doubles = try Tensor.full([2], 0.1 * Double(rank), dtype: .float64)
      try group.allReduceSum(doubles)
      #expect(abs(try doubles.toArray(Double.self)[0] - 0.3) < 1e-15)
      let weights = try Tensor.full([2, 3], Double(10 * rank))
      try group.broadcast(weights, from: 0)
      #expect(try weights.toArray(Float.self) == Array(repeating: 0, count: 6))
      try group.store.set("hello/\(rank)", "rank \(rank)")
      try group.barrier()
      #expect(try group.store.string("hello/\((rank + 1) % 3)") == "rank \((rank + 1) % 3)")
      #expect(try group.store.contains("hello/2"))
      #expect(try !group.store.contains("missing"))
      try group.store.add("counter", rank + 1)
      try group.barrier()
      #expect(try group.store.add("counter", 0) == 6)
    }
    for (rank, error) in errors.enumerated() { #expect(error == nil, "rank \(rank): \(String(describing: error))") }
  }

  /// A rank that never joins a collective makes the other fail after the timeout, not hang.
  @Test func aCollectiveWithAMissingRankFailsAfterTheTimeout() throws {
    let port = try TCPStore.freeLoopbackPort()
    let release = DispatchSemaphore(value: 0)
    let started = Date()
    let errors = Self.ranks(2) { rank in
      let group = try Self.group(rank, 2, port: port, timeout: 2)
      if rank == 1 {
        release.wait()
        return
      }
      defer { release.signal() }
      try group.allReduceSum(try Tensor.ones([4]))
    }
    let elapsed = Date().timeIntervalSince(started)
    #expect(errors[1] == nil)
    let message = (errors[0] as? TorchError)?.message ?? ""
    #expect(message.lowercased().contains("timed out") || message.lowercased().contains("timeout"), "\(message)")
    #expect(elapsed < 15)
  }

  /// The second server on a port in use fails with the system's reason; a client with no server times out.
  @Test func portInUseAndNoServerAreErrors() throws {
    let port = try TCPStore.freeLoopbackPort()
    let first = try TCPStore(host: "127.0.0.1", port: port, isServer: true, worldSize: 1, timeoutSeconds: 5)
    #expect(throws: TorchError.self) { _ = try TCPStore(host: "127.0.0.1", port: port, isServer: true, worldSize: 1, timeoutSeconds: 2) }
    withExtendedLifetime(first) {}
    let unused = try TCPStore.freeLoopbackPort()
    let started = Date()
    #expect(throws: TorchError.self) { _ = try TCPStore(host: "127.0.0.1", port: unused, isServer: false, worldSize: 2, timeoutSeconds: 1) }
    #expect(Date().timeIntervalSince(started) < 10)
  }
}
