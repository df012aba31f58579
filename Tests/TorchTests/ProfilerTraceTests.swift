import Foundation
import Testing

@testable import Torch

@Suite(.serialized) struct ProfilerTraceTests {
  func temporaryPath() -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("trace-\(UUID().uuidString).json").path
  }

  @Test func aTraceIsAChromeTraceOfTheOperationsThatRan() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    let sum = try ProfilerTrace.record(to: path, cuda: false) {
      try (try Tensor.ones([4, 4]) * 3).sum().item()
    }
    #expect(sum == 48)
    let document = try JSONSerialization.jsonObject(with: try Data(contentsOf: URL(fileURLWithPath: path)))
    let events = try #require((document as? [String: Any])?["traceEvents"] as? [[String: Any]])
    let names = Set(events.compactMap { $0["name"] as? String })
    #expect(names.contains("aten::mul") && names.contains("aten::sum"), "\(names.sorted())")
  }

  @Test func aFailingBodyStopsTheProfilerAndOnlyOneRunsAtATime() throws {
    let path = temporaryPath()
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: (any Error).self) {
      try ProfilerTrace.record(to: path, cuda: false) { _ = try Tensor.ones([2]) + (try Tensor.ones([3])) }
    }
    #expect(!FileManager.default.fileExists(atPath: path))
    #expect(throws: (any Error).self) {
      try ProfilerTrace.record(to: path, cuda: false) { try ProfilerTrace.record(to: path, cuda: false) {} }
    }
    try ProfilerTrace.record(to: path, cuda: false) { _ = try Tensor.ones([2]) * 2 }
    #expect(FileManager.default.fileExists(atPath: path))
  }
}
