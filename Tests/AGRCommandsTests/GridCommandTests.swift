import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr grid` as a process: a tiny grid (AT and TRADES, with and without AGR, two seeds, SmallCNN on a
/// few hundred images) run straight, and run again killed with SIGKILL in the middle and restarted,
/// gives the same table; the table's numbers are the runs' own; bad grids start nothing.
@Suite(.serialized) struct GridCommandTests {
  let folder: URL
  let data: URL

  init() throws { (folder, data) = try RunSafetyTests.scratchFolder("agr-grid", trainCount: 192, testCount: 48) }

  /// One libtorch thread per process: on a machine that is busy with other work, two threads waiting for
  /// each other's core make these tiny steps ten times slower (the numbers are the same).
  static let environment = ["OMP_NUM_THREADS": "1"]

  func agr(_ arguments: [String], killAfter text: String? = nil) throws -> RunSafetyTests.Outcome {
    try RunSafetyTests.agr(arguments, environment: Self.environment, interruptAfter: text, signal: SIGKILL)
  }

  func gridFile(_ name: String, _ text: String) throws -> URL {
    let url = folder.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  var tinyGrid: String {
    """
    {"preset": "quickstart",
     "settings": {"dataset": "mnist", "data_directory": "\(data.path)", "epochs": 2, "agr_start_epoch": 1,
                  "train_subset": 192, "test_subset": 48, "batch_size": 48, "perturbation.steps": 1, "eval_steps": 2,
                  "diagnostics_every": 2, "log_every": 2},
     "axes": {"method": ["at", "trades"], "agr": [false, true], "seed": [0, 1]},
     "evaluation": {"pgd_steps": 5, "autoattack": "apgd-ce", "autoattack_examples": 8}}
    """
  }

  /// The table without its times (which differ between any two runs).
  /// The per-run table without its measured columns (training time, peak memory), which no two runs share.
  static func tableWithoutTimes(_ folder: URL) throws -> String {
    let lines = try String(contentsOf: folder.appendingPathComponent("results-runs.csv"), encoding: .utf8).split(separator: "\n")
    guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false) else { return "" }
    let measured: Set<String> = [GridMetric.trainingSeconds.rawValue, GridMetric.peakMemory.rawValue]
    let kept = header.indices.filter { !measured.contains(String(header[$0])) }
    return lines.map { line in
      let fields = line.split(separator: ",", omittingEmptySubsequences: false)
      return kept.map { $0 < fields.count ? String(fields[$0]) : "" }.joined(separator: ",")
    }.joined(separator: "\n")
  }

  @Test func aKilledAndRestartedGridGivesTheSameTableAsAStraightOne() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("tiny.json", tinyGrid)
    let straight = folder.appendingPathComponent("straight")
    let first = try agr(["grid", file.path, "--runs", straight.path])
    #expect(first.status == 0, "\(first.output.suffix(2000)) \(first.errors)")

    let killed = folder.appendingPathComponent("killed")
    // killed with SIGKILL once the second run (AT+AGR, seed 0) has finished its first epoch: its `agr train` or
    // `agr eval` process must end with the grid, and the restarted grid resume it
    let stopped = try agr(["grid", file.path, "--runs", killed.path], killAfter: "at_agr_seed0: epoch 1")
    #expect(stopped.killed, "\(stopped.output.suffix(1000))")
    // restarted with two runs at once (two slots on the CPU, as --devices cuda:0,cuda:1 would on GPUs)
    let restarted = try agr(["grid", file.path, "--runs", killed.path, "--devices", "cpu,cpu"])
    #expect(restarted.status == 0, "\(restarted.output.suffix(2000)) \(restarted.errors)")
    #expect(restarted.output.contains("1 done, 7 to run on 2 devices at once")
              || restarted.output.contains("2 done, 6 to run on 2 devices at once"),
            "\(restarted.output.prefix(600))")
    #expect(try Self.tableWithoutTimes(killed) == Self.tableWithoutTimes(straight))
    let again = try agr(["grid", file.path, "--runs", killed.path])
    #expect(again.status == 0 && again.output.contains("8 done, 0 to run"), "\(again.output.prefix(600))")

    // the table's numbers are the runs' own: metrics.jsonl and the evaluation reports
    let rows = try String(contentsOf: straight.appendingPathComponent("results-runs.csv"), encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let header = rows[0]
    func column(_ name: String) -> Int { header.firstIndex(of: name)! }
    #expect(rows.count == 9)
    var bestPGDByCell = [String: [Double]]()
    for row in rows.dropFirst() {
      let run = straight.appendingPathComponent(row[0])
      let last = try RunDirectory(run).readMetrics().last!
      #expect(row[column("final_clean")] == "\(last.testCleanAccuracy)")
      #expect(row[column("final_pgd")] == "\(last.testRobustAccuracy!)")
      let pgd = try EvaluationReport.read(run.appendingPathComponent("eval-grid-pgd5.json"))
      #expect(row[column("best_clean")] == "\(pgd.cleanAccuracy)" && row[column("best_pgd")] == "\(pgd.pgdAccuracy!)")
      #expect(pgd.examples == 48)
      let second = try EvaluationReport.read(run.appendingPathComponent("eval-grid-apgd-ce.json"))
      #expect(row[column("best_autoattack")] == "\(second.attacks.last!.accuracy)" && second.examples == 8)
      bestPGDByCell[row[1], default: []].append(pgd.pgdAccuracy!)
      // every run logged to TensorBoard: framing and checksums hold, per-epoch metrics and per-tensor cosines are there
      let events = try FileManager.default.contentsOfDirectory(at: run.appendingPathComponent("tensorboard"), includingPropertiesForKeys: nil)
      let payloads = try events.flatMap { try EventFile.records(in: $0) }.map { String(decoding: $0, as: UTF8.self) }.joined()
      #expect(payloads.contains("epoch/test_robust_accuracy") && payloads.contains("cosine/feature_extractor.conv1.weight"))
    }
    let cells = try String(contentsOf: straight.appendingPathComponent("results.csv"), encoding: .utf8)
      .split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    let mean = cells[0].firstIndex(of: "best_pgd_mean")!
    for row in cells.dropFirst() {
      let values = bestPGDByCell[row[0]]!
      #expect(row[mean] == "\(values.reduce(0, +) / Double(values.count))")
    }
    let html = try String(contentsOf: straight.appendingPathComponent("results.html"), encoding: .utf8)
    #expect(html.contains("AGR − baseline") && html.contains("trades_agr"))
  }

  @Test func eachRunCanTrainDataParallel() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("parallel.json", tinyGrid.replacingOccurrences(
      of: #""axes": {"method": ["at", "trades"], "agr": [false, true], "seed": [0, 1]}"#,
      with: #""axes": {"method": ["trades"], "agr": [true], "seed": [0]}"#))
    let runs = folder.appendingPathComponent("runs")
    let outcome = try agr(["grid", file.path, "--runs", runs.path, "--nproc-per-node", "2"])
    #expect(outcome.status == 0, "\(outcome.output.suffix(1500)) \(outcome.errors)")
    let log = try String(contentsOf: runs.appendingPathComponent("logs/trades_agr_seed0.train.log"), encoding: .utf8)
    #expect(log.contains("2 data-parallel ranks"), "\(log.prefix(800))")
    let table = try String(contentsOf: runs.appendingPathComponent("results-runs.csv"), encoding: .utf8)
    #expect(table.contains("trades_agr_seed0,trades_agr,2,2,"), "\(table)")
  }

  @Test func badGridsStartNothing() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let cases: [(String, String)] = [
      (#"{"axes": {"metod": ["at"]}}"#, "axes.metod"),
      (#"{"axes": {"method": []}}"#, "axes.method: the axis is empty"),
      (#"{"axes": {"method": ["at", {"label": "at", "method": "trades"}]}}"#, "same name 'at'"),
      (#"{"axes": {"seed": [0]}, "settings": {"epochs": "two"}}"#, "epochs"),
    ]
    for (index, (text, expected)) in cases.enumerated() {
      let file = try gridFile("bad\(index).json", text)
      let runs = folder.appendingPathComponent("runs\(index)")
      let outcome = try agr(["grid", file.path, "--runs", runs.path])
      #expect(outcome.status == 1 && outcome.errors.contains(expected) && outcome.errors.contains(file.path)
        && outcome.errors.contains("nothing was started"), "\(text): \(outcome.errors)")
      #expect(!FileManager.default.fileExists(atPath: runs.path), "\(text): the runs folder was created")
    }
    let wrongSchema = try gridFile("run-file.json", #"{"epochs": 3, "method": "at"}"#)
    let outcome = try agr(["grid", wrongSchema.path])
    #expect(outcome.status == 1 && outcome.errors.contains("unknown key 'epochs'"), "\(outcome.errors)")
  }

  /// A label that would put a run outside --runs (or nowhere), a grid of a million runs, a grid file whose name
  /// cannot name the runs folder and --nproc-per-node past the machine: refused before anything is written.
  @Test func unsafeNamesHugeGridsAndTooManyRanksStartNothing() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let seeds = (0..<1000).map(String.init).joined(separator: ", ")
    let cases: [(String, String, [String], [String])] = [
      ("dotdot.json", #"{"axes": {"method": [{"label": "..", "method": "at"}], "seed": [0]}}"#, [], ["axes.method[0].label", "'..'"]),
      ("dot.json", #"{"axes": {"data_directory": ["."]}}"#, [], ["would be named '.'"]),
      ("separator.yaml", "axes:\n  method: [{label: \"a/b\", method: at}]\n", [], ["path separator"]),
      ("control.json", #"{"axes": {"method": [{"label": "a\u0007", "method": "at"}]}}"#, [], ["control character"]),
      ("million.json", #"{"axes": {"seed": [\#(seeds)], "epochs": [\#((1...1000).map(String.init).joined(separator: ", "))]}}"#, [],
       ["1000000 runs", "at most 10000"]),
      ("ranks.json", #"{"axes": {"seed": [0]}}"#, ["--nproc-per-node", "1000"], ["--nproc-per-node", "at most"]),
      ("bomb.yaml", RunFileTests.billionLaughs, [], ["more than 100000 values"]),
    ]
    for (name, text, flags, words) in cases {
      let file = try gridFile(name, text)
      let parent = folder.appendingPathComponent("parent-\(name)")
      let runs = parent.appendingPathComponent("runs")
      try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
      let started = Date()
      let outcome = try agr(["grid", file.path, "--runs", runs.path] + flags)
      #expect(outcome.status != 0 && words.allSatisfy(outcome.errors.contains), "\(name): \(outcome.errors)")
      #expect(Date().timeIntervalSince(started) < 30, "\(name) took \(Date().timeIntervalSince(started)) s to refuse")
      #expect(try FileManager.default.contentsOfDirectory(atPath: parent.path).isEmpty, "\(name): something was written")
    }
    // the default runs folder is runs/<the grid file's name>: a name with a control character is refused unless
    // --runs names the folder
    let odd = try gridFile("bell\u{7}.json", #"{"axes": {"seed": [0]}}"#)
    let outcome = try agr(["grid", odd.path, "--dry-run"])
    #expect(outcome.status == 1 && outcome.errors.contains("give --runs") && outcome.errors.contains("control character"),
            "\(outcome.errors)")
    #expect(try agr(["grid", odd.path, "--dry-run", "--runs", folder.appendingPathComponent("bell").path]).status == 0)
  }

  @Test func theDryRunListsTheRunsAndProjectsTimeFromABenchFigure() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("tiny.json", tinyGrid)
    let bench = try gridFile("bench.json", """
      [{"kind": "train", "tag": "smallcnn at", "model": "smallcnn", "method": "at", "agr": false, "attackSteps": 1,
        "imagesPerSecond": 96, "device": "cpu", "msPerStep": 500, "batchSize": 48, "precision": "fp32",
        "channelsLast": false, "warmup": 1, "steps": 2, "secondsPerEpoch": 520.8, "check": 2.3},
       {"kind": "train", "tag": "smallcnn at+agr", "model": "smallcnn", "method": "at", "agr": true, "attackSteps": 1,
        "imagesPerSecond": 48, "device": "cpu", "msPerStep": 1000, "batchSize": 48, "precision": "fp32",
        "channelsLast": false, "warmup": 1, "steps": 2, "secondsPerEpoch": 1041.7, "check": 2.3}]
      """)
    let outcome = try agr(["grid", file.path, "--runs", folder.appendingPathComponent("runs").path,
                                          "--dry-run", "--bench", bench.path])
    #expect(outcome.status == 0, "\(outcome.errors)")
    #expect(outcome.output.contains("at_no-agr_seed0") && outcome.output.contains("trades_agr_seed1"))
    // AT: 2 epochs x 192 images at 96 img/s = 4 s; AT+AGR at 48 img/s = 8 s; two seeds each; TRADES has no figure
    #expect(outcome.output.contains("projected training time: 24s"), "\(outcome.output)")
    #expect(outcome.output.contains("4 runs without a bench figure"), "\(outcome.output)")
  }
  /// The projection reads what `agr bench --json` itself writes (the bench's own type), not a hand-made subset.
  @Test func theDryRunProjectsFromARealBenchOutput() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let file = try gridFile("tiny.json", tinyGrid)
    let bench = try agr(["bench", "--model", "smallcnn", "--method", "at", "--agr", "both", "--batch-size", "8",
                         "--attack-steps", "1", "--steps", "1", "--warmup", "0", "--eval-steps", "0", "--json"])
    #expect(bench.status == 0, "\(bench.errors)")
    let figures = try gridFile("bench-real.json", bench.output)
    let outcome = try agr(["grid", file.path, "--runs", folder.appendingPathComponent("runs").path, "--dry-run",
                           "--bench", figures.path])
    #expect(outcome.status == 0, "\(outcome.errors)")
    #expect(outcome.output.contains("projected training time: "), "\(outcome.output)")
    #expect(outcome.output.contains("4 runs without a bench figure"), "\(outcome.output)")
    let truncated = try gridFile("bench-cut.json", String(bench.output.dropLast(40)))
    let refused = try agr(["grid", file.path, "--runs", folder.appendingPathComponent("runs").path, "--dry-run",
                           "--bench", truncated.path])
    #expect(refused.status != 0 && refused.errors.contains("is not the output of agr bench --json"), "\(refused.errors)")
  }
}
