import Foundation
import Testing

@testable import RobustTraining

/// Grid files: expansion into runs with stable names, strictness, and the shipped paper grids.
@Suite struct ExperimentGridTests {
  func grid(_ text: String, name: String = "test") throws -> ExperimentGrid {
    try ExperimentGrid(try StructuredText.parse(Data(text.utf8), yaml: false), file: "\(name).json", name: name)
  }

  func error(_ text: String) -> String? {
    do {
      _ = try grid(text).runs()
      return nil
    } catch let error as GridError {
      return error.description
    } catch {
      return "\(error)"
    }
  }

  @Test func axesExpandToEveryCombinationWithStableNamesSeedOutermost() throws {
    let runs = try grid("""
      {"settings": {"epochs": 2, "perturbation.steps": 1},
       "axes": {"seed": [0, 1], "agr": [false, true], "method": ["at", {"label": "at-awp", "method": "at", "awp": true}]}}
      """).runs()
    #expect(runs.map(\.name) == [
      "at_no-agr_seed0", "at_agr_seed0", "at-awp_no-agr_seed0", "at-awp_agr_seed0",
      "at_no-agr_seed1", "at_agr_seed1", "at-awp_no-agr_seed1", "at-awp_agr_seed1",
    ])
    #expect(runs[0].cell == "at_no-agr" && runs[4].cell == "at_no-agr")
    let awp = runs[3].configuration
    #expect(awp.awp == true && awp.agr && awp.method == .at && awp.seed == 0 && awp.epochs == 2 && awp.perturbation.steps == 1)
    #expect(runs[4].configuration.seed == 1 && runs[4].configuration.awp == nil && !runs[4].configuration.agr)
    // every other setting is the preset's (quickstart by default)
    var expected = TrainingPreset.quickstart.configuration
    expected.epochs = 2
    expected.perturbation.steps = 1
    expected.agr = false
    #expect(runs[0].configuration == expected)
  }

  @Test func aLearningRateWithoutScheduleMovesThePresetsSchedule() throws {
    let c = try grid(#"{"preset": "cifar10", "axes": {"learning_rate": [0.05]}}"#).runs()[0].configuration
    #expect(c.schedule == TrainingPreset.cifar10.configuration.schedule.rebased(to: 0.05))
  }

  @Test func badGridsAreRefusedWithTheirFileAndKey() {
    let cases: [(String, [String])] = [
      (#"{"axes": {"methd": ["at"]}}"#, ["test.json", "axes.methd", "not a setting"]),
      (#"{"axes": {"method": []}}"#, ["axes.method", "empty"]),
      (#"{"axes": {"method": ["at", {"label": "at", "method": "trades"}]}}"#, ["same name 'at'"]),
      (#"{"axes": {"seed": [0]}, "setings": {}}"#, ["unknown key 'setings'"]),
      (#"{"axes": {"seed": [0]}, "settings": {"epocs": 3}}"#, ["settings.epocs"]),
      (#"{"axes": {"epochs": ["ten"]}}"#, ["epochs", "expected"]),
      (#"{"axes": {"epochs": [0]}}"#, ["epochs", "positive"]),
      (#"{"axes": {"method": ["awp"]}}"#, ["method"]),
      (#"{"axes": {"method": [{"method": "at"}]}}"#, ["axes.method[0]", "label"]),
      (#"{"axes": {"seed": [0]}, "evaluation": {"autoatack": "aa"}}"#, ["evaluation.autoatack"]),
      (#"{"axes": {"seed": [0]}, "evaluation": {"autoattack": "aaa"}}"#, ["evaluation.autoattack", "unknown attack"]),
      (#"{"axes": {"seed": [0]}, "preset": "cifar11"}"#, ["preset"]),
      (#"{"axes": {}}"#, ["axes"]),
      (#"[1, 2]"#, ["not an object"]),
      (#"{"axes": "#, ["not JSON"]),
    ]
    for (text, words) in cases {
      let message = error(text)
      #expect(message != nil, "accepted: \(text)")
      for word in words { #expect(message?.contains(word) == true, "\(text): \(message ?? "")") }
    }
  }

  /// A label or value that would name a folder outside the runs folder, or no folder at all, is refused when
  /// the grid is read, before any run starts; so is a grid of more runs than any table needs.
  @Test func unsafeRunNamesAndHugeGridsAreRefused() {
    let cases: [(String, [String])] = [
      (#"{"axes": {"method": [{"label": "..", "method": "at"}], "seed": [0]}}"#, ["axes.method[0].label", "'..'", "parent folder"]),
      (#"{"axes": {"method": [{"label": ".", "method": "at"}]}}"#, ["axes.method[0].label", "'.'", "folder itself"]),
      (#"{"axes": {"method": [{"label": "a/b", "method": "at"}]}}"#, ["'a/b'", "path separator"]),
      (#"{"axes": {"method": [{"label": "a\\b", "method": "at"}]}}"#, ["path separator"]),
      (#"{"axes": {"method": [{"label": "at\nx", "method": "at"}]}}"#, ["'at\\u{A}x'", "control character"]),
      (#"{"axes": {"method": [{"label": "at\u001b[2J", "method": "at"}]}}"#, ["control character"]),
      (#"{"axes": {"data_directory": [".."]}}"#, ["would be named '..'", "label"]),
      (#"{"axes": {"data_directory": ["."]}}"#, ["would be named '.'"]),
      ("{\"axes\": {\"method\": [{\"label\": \"\(String(repeating: "a", count: 300))\", \"method\": \"at\"}]}}", ["255 bytes"]),
    ]
    for (text, words) in cases {
      let message = error(text)
      #expect(message != nil, "accepted: \(text)")
      for word in words { #expect(message?.contains(word) == true, "\(text): \(message ?? "")") }
    }
    // a million runs: refused from the axes' lengths, before a single run is made
    let seeds = (0..<1000).map(String.init).joined(separator: ", ")
    let started = Date()
    let huge = error(#"{"axes": {"seed": [\#(seeds)], "epochs": [\#((1...1000).map(String.init).joined(separator: ", "))]}}"#)
    #expect(huge?.contains("the axes make 1000000 runs (1000 epochs x 1000 seed); a grid holds at most 10000") == true, "\(huge ?? "")")
    #expect(Date().timeIntervalSince(started) < 2)
    // past Int.max
    let axes = (0..<20).map { #""axis\#($0)": [\#((0..<10).map(String.init).joined(separator: ", "))]"# }.joined(separator: ", ")
    #expect(error("{\"axes\": {\(axes)}}")?.contains("more than \(Int.max) runs") == true)
    // safe labels with odd characters still make runs (the token keeps letters, digits, '.', '+', '-')
    #expect(error(#"{"axes": {"method": [{"label": "AT (Madry)", "method": "at"}]}}"#) == nil)
  }

  /// Planning is linear in the runs: 4,000 runs in a few seconds, in the seed-outermost order.
  @Test func planningManyRunsIsLinear() throws {
    let seeds = (0..<1000).map(String.init).joined(separator: ", ")
    let started = Date()
    let runs = try grid(#"{"axes": {"seed": [\#(seeds)], "method": ["at", "trades"], "agr": [false, true]}}"#).runs()
    let seconds = Date().timeIntervalSince(started)
    #expect(runs.count == 4000 && Set(runs.map(\.name)).count == 4000)
    #expect(runs[0].name == "at_no-agr_seed0" && runs[3].name == "trades_agr_seed0" && runs[4].name == "at_no-agr_seed1")
    #expect(seconds < 30, "planning 4,000 runs took \(seconds) s")
  }

  @Test func theShippedGridsExpand() throws {
    let folder = TestData.repositoryRoot.appendingPathComponent("grids")
    let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
      .filter { $0.pathExtension == "json" }
    #expect(files.count >= 4)
    for file in files {
      let runs = try ExperimentGrid.read(from: file).runs()
      #expect(!runs.isEmpty, "\(file.lastPathComponent)")
    }
    let cifar = try ExperimentGrid.read(from: folder.appendingPathComponent("paper-cifar10.json")).runs()
    #expect(cifar.count == 16)
    #expect(Set(cifar.map(\.configuration.model)) == [.preactResNet18, .wideResNet34x10])
    #expect(cifar.allSatisfy { $0.configuration.epochs == 200 && $0.configuration.agrStartEpoch == 155 })
    #expect(cifar.filter { $0.configuration.awp == true }.count == 4)
  }

  @Test func theTableTakesMeanStdAndTheAGRDeltaFromTheRunsNumbers() throws {
    let runs = try grid(#"{"settings": {"epochs": 1}, "axes": {"method": ["at"], "agr": [false, true], "seed": [0, 1]}}"#).runs()
    let values: [String: Double] = ["at_no-agr_seed0": 0.40, "at_agr_seed0": 0.44, "at_no-agr_seed1": 0.42, "at_agr_seed1": 0.47]
    let results = runs.map { run in
      GridRunResult(run: run, epochsDone: 1, values: [.bestPGD: values[run.name]!, .finalClean: 0.8, .trainingSeconds: 10])
    }
    let table = GridTable(title: "t", evaluation: GridEvaluation(), results: results)
    #expect(table.cells.map(\.name) == ["at_no-agr", "at_agr"])
    let agr = table.cells[1].summaries[.bestPGD]!
    #expect(agr.mean == (0.44 + 0.47) / 2 && abs(agr.standardDeviation! - 0.0212132) < 1e-6)
    #expect(table.deltas.count == 1 && table.deltas[0].name == "at")
    #expect(abs(table.deltas[0].differences[.bestPGD]! - 0.045) < 1e-12)
    #expect(table.markdown.contains("| at_agr | 2/2 |") && table.markdown.contains("45.50 ± 2.12"))
    #expect(table.markdown.contains("+4.50"))
    #expect(table.runsCSV.contains("at_agr_seed1,at_agr,1,1,0.8,,,0.47"))
    let unfinished = GridRunResult(run: runs[0], epochsDone: 0, values: [:])
    let partial = GridTable(title: "t", evaluation: GridEvaluation(), results: [unfinished] + results.dropFirst())
    #expect(partial.cells[0].completeRuns == 1 && partial.cells[0].summaries[.bestPGD]!.mean == 0.42)
  }

  @Test func theTableNamesItsThreatModel() throws {
    let linf = try grid(#"{"settings": {"epochs": 1}, "axes": {"method": ["at"]}}"#).runs()
    let table = GridTable(title: "t", evaluation: GridEvaluation(), results: linf.map { GridRunResult(run: $0, epochsDone: 1, values: [:]) })
    #expect(table.markdown.contains("Threat model: Linf eps 0.1."), "\(table.markdown)")
    let l2 = try grid(#"{"settings": {"epochs": 1, "perturbation.norm": "l2", "perturbation.epsilon": 0.5019607843137255}, "axes": {"method": ["at"]}}"#).runs()
    let l2Table = GridTable(title: "t", evaluation: GridEvaluation(), results: l2.map { GridRunResult(run: $0, epochsDone: 1, values: [:]) })
    #expect(l2Table.markdown.contains("Threat model: L2 eps 128/255") && l2Table.notes[0].contains("L2 eps 128/255"))
  }

  @Test func aYAMLGridIsTheSameGrid() throws {
    let yaml = """
      settings:
        epochs: 2
        perturbation.steps: 1
      axes:
        method: [at, {label: at-awp, method: at, awp: true}]
        agr: [false, true]
        seed: [0, 1]
      """
    let fromYAML = try ExperimentGrid(try StructuredText.parse(Data(yaml.utf8), yaml: true), file: "g.yaml", name: "g").runs()
    let fromJSON = try grid("""
      {"settings": {"epochs": 2, "perturbation.steps": 1},
       "axes": {"seed": [0, 1], "agr": [false, true], "method": ["at", {"label": "at-awp", "method": "at", "awp": true}]}}
      """).runs()
    #expect(fromYAML == fromJSON)
  }
}
