import Foundation
import Testing

@testable import RobustTraining

/// How a grid's child reports: its status file, written atomically, with the first failure kept and a run
/// directory held by another process told apart from other errors; and typed configuration errors.
@Suite(.serialized) struct GridChildStatusTests {
  @Test func aChildReportsEpochsAndItsFirstFailure() throws {
    let folder = try TemporaryFolder()
    let file = folder.url.appendingPathComponent("run.train.status.json")
    GridChildStatus.update { $0.epochLines.append("not written: no grid") }
    #expect(GridChildStatus.read(file) == nil)
    setenv(GridChildStatus.variable, file.path, 1)
    defer { unsetenv(GridChildStatus.variable) }
    GridChildStatus.update { $0.epochLines.append("epoch 1  loss 2.0") }
    GridChildStatus.update { $0.epochLines.append("epoch 2  loss 1.5") }
    var status = try #require(GridChildStatus.read(file))
    #expect(status.state == .running && status.epochLines.count == 2 && status.failure == nil)
    GridChildStatus.recordFailure(TrainingError.runInUse(path: "/runs/a", holder: nil), message: "in use")
    GridChildStatus.recordFailure(TrainingError.badRunDirectory("later"), message: "exit status 1")
    status = try #require(GridChildStatus.read(file))
    #expect(status.state == .failed && status.failure == .runInUse && status.error == "in use")
    #expect(status.epochLines == ["epoch 1  loss 2.0", "epoch 2  loss 1.5"])
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["run.train.status.json"])
  }

  @Test func errorsSayWhatKindTheyAre() throws {
    let folder = try TemporaryFolder()
    let run = RunDirectory(folder.url.appendingPathComponent("run"))
    let lock = try run.lock()
    let error = #expect(throws: TrainingError.self) { _ = try run.lock() }
    guard case .runInUse(let path, let holder) = error! else { Issue.record("\(error!)"); return }
    #expect(path == run.url.path && holder?.contains("process \(getpid())") == true)
    #expect("\(error!)".contains("is in use by another run"))
    withExtendedLifetime(lock) {}

    let unknown = #expect(throws: ConfigurationError.self) {
      let valid = String(decoding: try RunDirectory.configurationJSON(TrainingConfiguration()), as: UTF8.self)
      _ = try TrainingConfiguration.decode(Data((#"{"epochz": 3, "# + valid.dropFirst()).utf8), file: "run.json")
    }
    #expect(unknown?.kind == .unknownSetting && unknown?.key == "epochz")
    let invalid = #expect(throws: ConfigurationError.self) {
      _ = try TrainingConfiguration.decode(try RunDirectory.configurationJSON({ var c = TrainingConfiguration(); c.epochs = 0; return c }()))
    }
    #expect(invalid?.kind == .invalid && invalid?.key == "epochs")
  }
}
