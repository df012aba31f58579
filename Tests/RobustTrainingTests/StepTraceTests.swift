import Foundation
import Testing

@testable import RobustTraining

/// `agr bench --trace`: a profiler trace of training steps that scripts/trace_summary.py reads.
@Suite(.serialized) struct StepTraceTests {
  @Test func aStepTraceIsSummarisedByTheTraceScript() throws {
    let folder = try TemporaryFolder()
    let c = BenchmarkCase(model: .smallCNN, method: .at, agr: true, batchSize: 4, attackSteps: 1)
    let path = folder.url.appendingPathComponent("agr-\(StepBenchmark.fileName(tag: c.tag)).json").path
    #expect(path.hasSuffix("agr-smallcnn_at+agr-flat_bs=4_fp32.json"))
    try StepBenchmark.trace(c, steps: 2, warmup: 1, device: .cpu, to: path)

    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", TestData.repositoryRoot.appendingPathComponent("scripts/trace_summary.py").path, path]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    process.waitUntilExit()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    #expect(process.terminationStatus == 0)
    // e.g. "agr-smallcnn_at+agr-flat_bs=4_fp32.json: 30.12 ms/step traced, 28.40 ms/step in ATen calls on the host"
    #expect(text.contains("ms/step traced") && text.contains("in ATen calls on the host"), "\(text)")
  }
}
