import Foundation
import Testing

@testable import RobustTraining

/// File-system errors that printed Foundation's raw `NSCocoaErrorDomain` dumps: a run whose config.json cannot
/// be read, a run directory below a file, a TensorBoard folder blocked by a file. Each now says what is wrong
/// in words, with the path.
@Suite(.serialized) struct FileErrorMessageTests {
  let folder: URL
  let data: URL

  init() throws { (folder, data) = try RunSafetyTests.scratchFolderWithDataset("agr-file-errors") }

  func trainArguments(_ run: URL) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--epochs", "1", "--batch-size", "32",
     "--train-subset", "64", "--test-subset", "32", "--attack-steps", "1", "--eval-steps", "1", "--output", run.path]
  }

  func expectReadable(_ text: String, _ words: [String]) {
    #expect(!text.contains("Domain=") && !text.contains("NSCocoaErrorDomain") && !text.contains("UserInfo")
              && !text.contains("DecodingError"), "\(text)")
    for word in words { #expect(text.contains(word), "'\(text)' does not say \(word)") }
  }

  @Test func theThreeFileErrorsAreWords() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    // 1. --resume (and eval, report) of a run whose config.json is a folder, or not JSON
    let run = folder.appendingPathComponent("unreadable")
    try FileManager.default.createDirectory(at: run.appendingPathComponent("config.json"), withIntermediateDirectories: true)
    let resumed = try RunSafetyTests.agr(["train", "--resume", run.path])
    #expect(resumed.status == 1)
    expectReadable(resumed.errors, ["\(run.path)/config.json could not be read: a folder, not a file"])
    let garbled = folder.appendingPathComponent("garbled")
    try FileManager.default.createDirectory(at: garbled, withIntermediateDirectories: true)
    try Data("{\"epochs\":".utf8).write(to: garbled.appendingPathComponent("config.json"))
    expectReadable(try RunSafetyTests.agr(["train", "--resume", garbled.path]).errors, ["\(garbled.path)/config.json is not JSON: line 1"])

    // 2. a run directory below a file
    let file = folder.appendingPathComponent("a-file")
    try Data("x".utf8).write(to: file)
    let below = try RunSafetyTests.agr(trainArguments(file.appendingPathComponent("run")))
    #expect(below.status == 1)
    expectReadable(below.errors, ["\(file.path)/run: cannot create the run directory", "ot a directory"])

    // 3. the TensorBoard folder blocked by a file: training goes on, the warning says why
    let blocked = folder.appendingPathComponent("blocked")
    try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
    try Data("x".utf8).write(to: blocked.appendingPathComponent("tensorboard"))
    let trained = try RunSafetyTests.agr(trainArguments(blocked))
    #expect(trained.status == 0, "\(trained.errors)")
    expectReadable(trained.errors, ["warning: no TensorBoard log: \(blocked.path)/tensorboard: File exists"])
  }

  @Test func foundationsUnexplainedErrorsAreExplainedFromThePath() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = folder.appendingPathComponent("plain")
    try Data("x".utf8).write(to: file)
    do {
      try FileManager.default.createDirectory(at: file.appendingPathComponent("a/b"), withIntermediateDirectories: true)
      Issue.record("a folder was made below a file")
    } catch {
      expectReadable(fileErrorText(error), [file.path])
    }
  }
}
