import Foundation
import Testing

@testable import RobustTraining
@testable import RobustTrainingBench

/// `agr bench --trace`: a profiler trace of training steps that scripts/trace_summary.py reads.
@Suite(.serialized) struct StepTraceTests {
  static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// A fresh temporary folder, removed by the caller.
  func temporaryFolder() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("agr-bench-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  func traceSummary(_ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", Self.repositoryRoot.appendingPathComponent("scripts/trace_summary.py").path]
      + arguments
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
  }

  /// The GPU half of the summary, on a hand-made trace: busy time is the union of kernel intervals over the
  /// traced window, and launches through the runtime and the driver API both count.
  @Test func theTraceScriptMeasuresGPUBusyTimeAndLaunches() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("gpu.json")
    let events = #"""
      {"traceEvents": [
        {"ph": "X", "cat": "cpu_op", "name": "aten::add", "pid": 1, "tid": 1, "ts": 0, "dur": 100},
        {"ph": "X", "cat": "cuda_runtime", "name": "cudaLaunchKernel", "pid": 1, "tid": 1, "ts": 10, "dur": 5},
        {"ph": "X", "cat": "cuda_driver", "name": "cuLaunchKernelEx", "pid": 1, "tid": 1, "ts": 20, "dur": 5},
        {"ph": "X", "cat": "kernel", "name": "k1", "pid": 0, "tid": 7, "ts": 30, "dur": 40},
        {"ph": "X", "cat": "kernel", "name": "k2", "pid": 0, "tid": 7, "ts": 60, "dur": 40},
        {"ph": "X", "cat": "cpu_op", "name": "aten::mul", "pid": 1, "tid": 1, "ts": 150, "dur": 50}]}
      """#
    try Data(events.utf8).write(to: path)
    let (status, output) = try traceSummary(["--steps", "1", path.path])
    #expect(status == 0)
    #expect(output.contains("gpu.json: 0.20 ms/step traced, 0.15 ms/step in ATen calls on the host; GPU busy 0.07 ms/step "
      + "(35% of the window), 2 kernels and 2 launch calls per step"), "\(output)")
  }

  @Test func aStepTraceIsSummarisedByTheTraceScript() throws {
    let folder = try temporaryFolder()
    defer { try? FileManager.default.removeItem(at: folder) }
    let c = BenchmarkCase(model: .smallCNN, method: .at, agr: true, batchSize: 4, attackSteps: 1)
    let path = folder.appendingPathComponent("agr-\(StepBenchmark.fileName(tag: c.tag)).json").path
    #expect(path.hasSuffix("agr-smallcnn_at+agr-flat_bs=4_fp32.json"))
    try StepBenchmark.trace(c, steps: 2, warmup: 1, device: .cpu, to: path)

    let (status, text) = try traceSummary([path])
    #expect(status == 0)
    // e.g. "agr-smallcnn_at+agr-flat_bs=4_fp32.json: 30.12 ms/step traced, 28.40 ms/step in ATen calls on the host"
    #expect(text.contains("ms/step traced") && text.contains("in ATen calls on the host"), "\(text)")
  }
}
