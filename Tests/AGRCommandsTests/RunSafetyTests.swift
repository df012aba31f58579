import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr train` as a separate process, stopped the hard ways a user or a machine stops it: kill -9 at every
/// step of the checkpoint write (through the `AGR_TEST_KILL_AT` hook), Ctrl-C, a second run on the same
/// folder, a tampered state. Every resume afterwards ends bit-for-bit where the uninterrupted run ends, or
/// is refused with a message.
@Suite(.serialized) struct RunSafetyTests {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let agr = root.appendingPathComponent(".build/debug/agr")

  struct Outcome {
    let status: Int32
    let killed: Bool
    let output: String
    let errors: String
  }

  /// Runs `agr` with `arguments`; `environment` is added to this process's. With `interruptAfter`, the
  /// process gets `signal` (SIGINT: Ctrl-C) once its standard output shows that text.
  static func agr(_ arguments: [String], environment: [String: String] = [:],
                  interruptAfter text: String? = nil, signal: Int32 = SIGINT) throws -> Outcome
  {
    let logs = FileManager.default.temporaryDirectory.appendingPathComponent("agr-run-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: logs, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: logs) }
    let (outURL, errURL) = (logs.appendingPathComponent("out"), logs.appendingPathComponent("err"))
    _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
    _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = agr
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    if let text {
      var sent = false
      while process.isRunning && !sent {
        if (try? String(contentsOf: outURL, encoding: .utf8))?.contains(text) == true {
          kill(process.processIdentifier, signal)
          sent = true
        } else {
          usleep(20_000)
        }
      }
    }
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus, killed: process.terminationReason == .uncaughtSignal,
                   output: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                   errors: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
  }

  /// A fresh temporary folder named `prefix-UUID` with such a dataset in its `data` subfolder.
  static func scratchFolder(_ prefix: String, trainCount: Int, testCount: Int) throws -> (folder: URL, data: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try writeDataset(to: folder.appendingPathComponent("data"), trainCount: trainCount, testCount: testCount)
    return (folder, folder.appendingPathComponent("data"))
  }

  /// An MNIST-format split whose label is the brightest of ten horizontal bands (learnable, seeded).
  static func writeDataset(to folder: URL, trainCount: Int = 128, testCount: Int = 32) throws {
    let generator = try Generator(seed: 17)
    func split(_ stem: String, _ count: Int) throws {
      let labels = try Tensor.randint(0, 10, [count], generator: generator).toArray(Int64.self)
      let noise = try Tensor.randint(0, 90, [count, 28, 28], generator: generator).toArray(Int64.self)
      var pixels = [UInt8]()
      for (i, label) in labels.enumerated() {
        for row in 0..<28 {
          for column in 0..<28 {
            pixels.append(UInt8((row / 3 == Int(label) ? 160 : 0) + Int(noise[(i * 28 + row) * 28 + column])))
          }
        }
      }
      func idx(_ dims: [Int], _ body: [UInt8]) -> Data {
        Data([0, 0, 0x08, UInt8(dims.count)] + dims.flatMap { withUnsafeBytes(of: UInt32($0).bigEndian, Array.init) } + body)
      }
      try idx([count, 28, 28], pixels).write(to: folder.appendingPathComponent("\(stem)-images-idx3-ubyte"))
      try idx([count], labels.map(UInt8.init)).write(to: folder.appendingPathComponent("\(stem)-labels-idx1-ubyte"))
    }
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try split("train", trainCount)
    try split("t10k", testCount)
  }

  let folder: URL
  let data: URL

  init() throws {
    (folder, data) = try Self.scratchFolderWithDataset("agr-run-safety")
  }

  /// A new temporary folder named `prefix`-UUID holding the `writeDataset` split in `data/`.
  static func scratchFolderWithDataset(_ prefix: String) throws -> (folder: URL, data: URL) {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    let data = folder.appendingPathComponent("data")
    try writeDataset(to: data)
    return (folder, data)
  }

  func trainArguments(_ run: URL, epochs: Int = 3) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--epochs", "\(epochs)",
     "--batch-size", "32", "--attack-steps", "1", "--eval-steps", "2", "--agr-start-epoch", "2", "--diagnostics-every", "2",
     "--seed", "5", "--output", run.path]
  }

  /// The run's results that must not depend on how it was stopped and resumed.
  func results(_ run: URL) throws -> [String: Data] {
    var out = [String: Data]()
    for name in ["last.safetensors", "best.safetensors", "diagnostics.jsonl", "config.json", "parameters.json"] {
      out[name] = try Data(contentsOf: run.appendingPathComponent(name))
    }
    out["metrics"] = try RunDirectory(run).metricsIgnoringTimes()
    return out
  }

  @Test func aKillAtEveryStepOfTheCheckpointWriteResumesExactly() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let straight = folder.appendingPathComponent("straight")
    let reference = try Self.agr(trainArguments(straight))
    #expect(reference.status == 0 && !reference.killed, "\(reference.errors)")
    let expected = try results(straight)

    // every point of epoch 2's checkpoint, the first epoch's (no checkpoint yet) and the last's; best.safetensors
    // is written only in epochs that improve the score, so its point is taken in the last such epoch
    let records = try RunDirectory(straight).readMetrics()
    let scores = records.map { $0.testRobustAccuracy ?? $0.testCleanAccuracy }
    let improving = records.indices.filter { i in scores[i] > (scores[..<i].max() ?? -1) }.map { records[$0].epoch }
    var points = ["model-temp", "model", "diagnostics", "state-temp", "state", "metrics"].map { "\($0)@2" }
    for point in ["best@\(improving.last ?? 1)", "best@1", "model@1", "state@3"] where !points.contains(point) {
      points.append(point)
    }
    for point in points {
      let run = folder.appendingPathComponent("killed-\(point)")
      let stopped = try Self.agr(trainArguments(run), environment: ["AGR_TEST_KILL_AT": point])
      #expect(stopped.killed && stopped.status == SIGKILL, "\(point): \(stopped.status) \(stopped.errors) \(stopped.output.suffix(300))")
      let resumed = try Self.agr(["train", "--resume", run.path])
      #expect(resumed.status == 0 && !resumed.killed, "\(point): \(resumed.errors)")
      let got = try results(run)
      for (name, bytes) in expected {
        #expect(got[name] == bytes, "\(point): \(name) differs from the uninterrupted run")
      }
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasSuffix(".tmp") }
      #expect(leftovers.isEmpty, "\(point): \(leftovers)")
    }
  }

  @Test func aSecondRunOnTheSameFolderIsRefusedAndNamesTheFirst() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("busy")
    do {
      let lock = try RunDirectory(run).lock()
      let second = try Self.agr(trainArguments(run))
      #expect(second.status == 1, "\(second.errors)")
      #expect(second.errors.contains("in use by another run") && second.errors.contains("process \(getpid())"),
              "\(second.errors)")
      #expect(!FileManager.default.fileExists(atPath: run.appendingPathComponent("config.json").path))
      withExtendedLifetime(lock) {}
    }
    // once the first is gone, the folder is free
    let third = try Self.agr(trainArguments(run, epochs: 1))
    #expect(third.status == 0, "\(third.errors)")
  }

  @Test func ctrlCStopsAtAStepSaysHowToResumeAndTheRunResumes() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("interrupted")
    let stopped = try Self.agr(trainArguments(run, epochs: 4), interruptAfter: "== epoch 1")
    #expect(stopped.status == 130 && !stopped.killed, "\(stopped.status) \(stopped.killed): \(stopped.errors) \(stopped.output)")
    #expect(stopped.errors.contains("interrupted at step") && stopped.errors.contains("agr train --resume \(run.path)"),
            "\(stopped.errors)")
    let resumed = try Self.agr(["train", "--resume", run.path])
    #expect(resumed.status == 0, "\(resumed.errors)")
    #expect(try RunDirectory(run).readMetrics().map(\.epoch) == [1, 2, 3, 4])
  }

  @Test func aTamperedStateIsRefusedByItsKey() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("tampered")
    #expect(try Self.agr(trainArguments(run, epochs: 2) + ["--epochs", "2"]).status == 0)
    let stateURL = RunDirectory(run).lastState
    let original = try Data(contentsOf: stateURL)
    for (key, value) in [("epochs_done", "-3"), ("epochs_done", "99"), ("best_accuracy", "1e308"), ("records", "[]")] {
      var state = try TrainingState.load(from: stateURL)
      state.metadata[key] = value
      try state.save(to: stateURL)
      let resumed = try Self.agr(["train", "--resume", run.path])
      #expect(resumed.status == 1 && !resumed.killed, "\(key)=\(value): \(resumed.status) \(resumed.errors)")
      #expect(resumed.errors.contains("last-state.safetensors") && resumed.errors.contains(key), "\(resumed.errors)")
      try original.write(to: stateURL)
    }
  }

  @Test func anEmptyAttackListIsRefusedByItsFlag() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("evaluated")
    #expect(try Self.agr(trainArguments(run, epochs: 1)).status == 0)
    let checkpoint = run.appendingPathComponent("best.safetensors").path
    let empty = try Self.agr(["eval", checkpoint, "--attacks", ","])
    #expect(empty.status == 64 && empty.errors.contains("--attacks"), "\(empty.status): \(empty.errors)")
    let unknown = try Self.agr(["eval", checkpoint, "--attacks", "pgd20,deepfool"])
    #expect(unknown.status == 64 && unknown.errors.contains("deepfool"), "\(unknown.errors)")
    let reports = try FileManager.default.contentsOfDirectory(atPath: run.path).filter { $0.hasPrefix("eval-") }
    #expect(reports.isEmpty)
  }

  @Test func badInputsStopBeforeAnythingIsWritten() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("never")
    let cases: [([String], String)] = [
      (["--data-dir", folder.appendingPathComponent("missing").path], "does not exist"),
      (["--momentum", "2"], "--momentum"), (["--eps", "-0.1"], "--eps"), (["--step-size", "nan"], "--step-size"),
    ]
    for (extra, text) in cases {
      let outcome = try Self.agr(trainArguments(run) + extra)
      #expect(outcome.status != 0 && !outcome.killed, "\(extra)")
      #expect(outcome.errors.contains(text), "\(extra): \(outcome.errors)")
      #expect(!FileManager.default.fileExists(atPath: run.path), "\(extra) left \(run.path) behind")
    }
    let unwritable = try Self.agr(trainArguments(URL(fileURLWithPath: "/proc/agr-run")))
    #expect(unwritable.status == 1 && unwritable.errors.contains("/proc/agr-run") && !unwritable.errors.contains("NSCocoa"),
            "\(unwritable.errors)")
  }
}

extension RunDirectory {
  /// The epoch records without the measured fields (wall clock, peak memory), as JSON with sorted keys.
  func metricsIgnoringTimes() throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return try encoder.encode(try readMetrics().map { r in
      var r = r
      r.seconds = 0
      r.imagesPerSecond = 0
      r.peakMemoryBytes = nil
      return r
    })
  }
}
