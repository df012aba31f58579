import Foundation
import Testing

@testable import RobustTraining

/// The one reader of run and grid files (`StructuredText`): its size, depth, value and alias budget, keys
/// given twice, numbers out of range and YAML's .nan / .inf, each refused with the key (and line) at fault
/// and before anything large is built.
@Suite struct SettingsFileTests {
  func message(_ text: String, yaml: Bool = false) -> String? {
    do {
      _ = try StructuredText.parse(Data(text.utf8), yaml: yaml)
      return nil
    } catch let error as StructuredTextError {
      return error.message
    } catch {
      return "unexpected \(type(of: error)): \(error)"
    }
  }

  func key(_ text: String, yaml: Bool = false) -> String? {
    do {
      _ = try StructuredText.parse(Data(text.utf8), yaml: yaml)
      return nil
    } catch let error as StructuredTextError {
      return error.key
    } catch { return nil }
  }

  /// YAML's "billion laughs": nine levels of nine aliases, 9^9 values from under 1 KB.
  static let billionLaughs = (1...9).map { level in
    let name = String(UnicodeScalar(UInt8(96 + level)))
    let items = level == 1 ? Array(repeating: "\"lol\"", count: 9) : Array(repeating: "*" + String(UnicodeScalar(UInt8(95 + level))), count: 9)
    return "\(name): &\(name) [\(items.joined(separator: ", "))]"
  }.joined(separator: "\n")

  @Test func anAliasBombIsRefusedAtOnce() throws {
    #expect(Self.billionLaughs.utf8.count < 1024)
    let started = Date()
    let text = message(Self.billionLaughs, yaml: true)
    #expect(text?.contains("more than \(StructuredText.maximumValues) values") == true, "\(text ?? "accepted")")
    #expect(text?.contains("aliases expanded") == true)
    #expect(Date().timeIntervalSince(started) < 2, "the bomb took \(Date().timeIntervalSince(started)) s to refuse")
    // many aliases of a small anchor: the alias budget
    let many = "a: &a 1\nb: [" + Array(repeating: "*a", count: StructuredText.maximumAliases + 1).joined(separator: ", ") + "]"
    #expect(message(many, yaml: true)?.contains("more than \(StructuredText.maximumAliases) aliases") == true)
    // an alias as a mapping key is no name
    #expect(message("a: &a [1, 2]\n? *a\n: 3", yaml: true)?.contains("keys are names") == true)
    // aliases within the budget read as the values they stand for, and merge keys merge
    let tree = try StructuredText.parse(Data("base: &base {epochs: 2, seed: 1}\nrun: {<<: *base, seed: 3}\nlist: [*base]".utf8), yaml: true)
    #expect(tree == .object(["base": .object(["epochs": .integer(2), "seed": .integer(1)]),
                             "run": .object(["epochs": .integer(2), "seed": .integer(3)]),
                             "list": .array([.object(["epochs": .integer(2), "seed": .integer(1)])])]))
  }

  @Test func aFileLargerThanTheBudgetIsNotRead() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("huge.json")
    // 80 MB of a valid-looking JSON run file: refused by its size, without reading it whole
    #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
    let handle = try FileHandle(forWritingTo: url)
    try handle.write(contentsOf: Data("{\"padding\": \"".utf8))
    try handle.truncate(atOffset: 80 << 20)
    try handle.close()
    for read in [{ _ = try TrainingConfiguration.read(from: url) }, { _ = try ExperimentGrid.read(from: url) }] {
      do {
        try read()
        Issue.record("an 80 MB settings file was accepted")
      } catch {
        #expect("\(error)".contains(url.path) && "\(error)".contains("larger than 1 MiB"), "\(error)")
      }
    }
    // a device or a FIFO is not read at all
    #expect(throws: ConfigurationError.self) { _ = try TrainingConfiguration.read(from: URL(fileURLWithPath: "/dev/zero")) }
    let error = #expect(throws: GridError.self) { _ = try ExperimentGrid.read(from: URL(fileURLWithPath: "/dev/zero")) }
    #expect(error?.description.contains("not a regular file") == true)
  }

  @Test func deepNestingIsRefusedByDepth() {
    for yaml in [false, true] {
      let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
      let text = message("{\"a\": \(deep)}", yaml: yaml)
      #expect(text?.contains("nested more than \(StructuredText.maximumDepth) levels") == true
                || (yaml && text?.contains("is not YAML") == true), "\(yaml): \(text ?? "accepted")")
      let fine = String(repeating: "[", count: 10) + String(repeating: "]", count: 10)
      #expect(message("{\"a\": \(fine)}", yaml: yaml) == nil)
    }
  }

  @Test func aKeyGivenTwiceIsRefusedByNameAtAnyDepth() {
    #expect(message(#"{"epochs": 1, "seed": 0, "epochs": 3}"#)?.contains("gives the key 'epochs' twice") == true)
    #expect(key(#"{"perturbation": {"steps": 1, "steps": 2}}"#) == "perturbation.steps")
    // an escaped key is the same key
    #expect(message(#"{"seed": 1, "\u0073eed": 2}"#)?.contains("'seed' twice") == true)
    #expect(message("epochs: 1\nseed: 0\nepochs: 3", yaml: true)?.contains("'epochs' twice (lines 1 and 3)") == true)
    #expect(key("a:\n  b: 1\n  b: 2", yaml: true) == "a.b")
    // the same key in two objects is no repetition
    #expect(message(#"{"a": {"k": 1}, "b": {"k": 1}}"#) == nil)
  }

  @Test func numbersOutOfRangeAndNonFiniteValuesNameTheirKey() throws {
    #expect(key(#"{"perturbation": {"epsilon": 1e400}}"#) == "perturbation.epsilon")
    #expect(message(#"{"epochs": -1e999}"#)?.contains("out of range") == true)
    for value in [".nan", ".inf", "-.inf", ".NaN"] {
      #expect(key("perturbation:\n  epsilon: \(value)", yaml: true) == "perturbation.epsilon", "\(value)")
      #expect(message("seed: \(value)", yaml: true)?.contains("not a finite number") == true)
    }
    // whole numbers stay integers; past Int they become numbers (the decoder then names the key)
    #expect(try StructuredText.parse(Data(#"{"a": 3, "b": 3.0, "c": 99999999999999999999}"#.utf8), yaml: false)
              == .object(["a": .integer(3), "b": .number(3), "c": .number(1e20)]))
    // a quoted YAML scalar is text
    #expect(try StructuredText.parse(Data("a: \"3\"\nb: 3\nc: yes\nd: ~\ne: !!str 4\nf: ! 5\ng: !!float 6".utf8), yaml: true)
              == .object(["a": .string("3"), "b": .integer(3), "c": .bool(true), "d": .null, "e": .string("4"), "f": .string("5"),
                          "g": .number(6)]))
    #expect(message("a: !!int x", yaml: true)?.contains("'a': 'x' (line 1), which is not tag:yaml.org,2002:int") == true)
    #expect(message("a: !custom 1", yaml: true)?.contains("tagged !custom") == true)
  }

  @Test func syntaxErrorsSayWhere() {
    #expect(message("{\n  \"epochs\": 3,\n  \"seed\" 1\n}")?.contains("line 3, column 10") == true)
    #expect(message("{\"a\": 01}")?.contains("leading zero") == true)
    #expect(message("{\"a\": \"\u{1}\"}")?.contains("control character") == true)
    #expect(message("{\"a\": 1} x")?.contains("text after the end") == true)
    #expect(message("a: [1,\n", yaml: true)?.contains("is not YAML: line") == true)
    #expect(message("a: 1\n---\nb: 2\n", yaml: true)?.contains("another starts at line 2") == true)
  }

  /// A run file's number that does not fit its setting's type names the key (Foundation's decoder names none).
  @Test func aRunFilesMisfitNumbersNameTheKeyAndTheFile() throws {
    let valid = try JSONValue.of(TrainingConfiguration())
    let cases: [(String, JSONValue, String)] = [
      ("epochs", .number(1.5), "1.5"), ("epochs", .number(1e20), "1e+20"), ("seed", .integer(-1), "-1"),
      ("perturbation.steps", .number(2.5), "2.5"), ("batch_size", .number(1e300), "1e+300"),
    ]
    for (key, value, shown) in cases {
      do {
        _ = try TrainingConfiguration.decode(valid.setting(key, to: value).data, file: "run.json")
        Issue.record("\(key) = \(shown) accepted")
      } catch let error as ConfigurationError {
        #expect(error.key == key && error.message.contains("run.json") && error.message.contains(shown), "\(error)")
      }
    }
    let yaml = String(decoding: try RunDirectory.configurationJSON(TrainingConfiguration()), as: UTF8.self)
      .replacingOccurrences(of: "\"seed\" : 0", with: "\"seed\" : .nan")
    let error = #expect(throws: ConfigurationError.self) { _ = try TrainingConfiguration.parse(Data(yaml.utf8), yaml: true, file: "run.yaml") }
    #expect(error?.key == "seed" && error?.message.contains("run.yaml") == true, "\(String(describing: error))")
  }
}

/// Seeded mutants of run and grid files, JSON and YAML (byte flips, truncations, numbers swapped for huge
/// or fractional ones, lines repeated, deep nesting and alias bombs spliced in): each reads, or is refused
/// with the reader's own error; none crashes or hangs the process.
@Suite(.serialized) struct SettingsFileFuzzTests {
  static let numbers = ["1e400", "-1e400", "1e308", "99999999999999999999999", "-9223372036854775809", "0.5", "-1", "-0",
                        "1e-400", ".nan", ".inf", "0x7fffffffffffffff", "1_000", "NaN", "Infinity"]

  /// `count` mutants of `valid`.
  static func mutants(of valid: String, count: Int, yaml: Bool, seed: UInt64) -> [Data] {
    var random = SplitMix64(seed: seed)
    let bytes = [UInt8](valid.utf8)
    let lines = valid.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    return (0..<count).map { k -> Data in
      switch k % 7 {
      case 0: return Data(bytes.prefix(Int.random(in: 0..<bytes.count, using: &random)))
      case 1:
        var mutated = bytes
        for _ in 0..<Int.random(in: 1...3, using: &random) {
          mutated[Int.random(in: 0..<mutated.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
        }
        return Data(mutated)
      case 2:
        // a number replaced by a hostile one
        var text = valid
        let digits = text.indices.filter { text[$0].isNumber }
        guard let at = digits.randomElement(using: &random) else { return Data(bytes) }
        var end = at
        while end < text.endIndex, text[end].isNumber || text[end] == "." { end = text.index(after: end) }
        text.replaceSubrange(at..<end, with: numbers.randomElement(using: &random)!)
        return Data(text.utf8)
      case 3:
        // a line repeated (a key given twice, mostly)
        var copy = lines
        let i = Int.random(in: 0..<copy.count, using: &random)
        copy.insert(copy[i], at: Int.random(in: 0...copy.count, using: &random))
        return Data(copy.joined(separator: "\n").utf8)
      case 4:
        // deep nesting at a value
        let depth = Int.random(in: 1...3000, using: &random)
        let nested = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var text = valid
        guard let colon = text.indices.filter({ text[$0] == ":" }).randomElement(using: &random) else { return Data(bytes) }
        text.insert(contentsOf: " " + nested + (yaml ? "" : ","), at: text.index(after: colon))
        return Data(text.utf8)
      case 5:
        // an alias bomb (YAML) or a huge array (JSON) spliced in as a setting
        if yaml { return Data((SettingsFileTests.billionLaughs + "\n" + valid).utf8) }
        // past the value budget now and then (reading 10^5 values takes a while), else a short list
        let length = k % 490 == 5 ? StructuredText.maximumValues + 1 : Int.random(in: 1...64, using: &random)
        let huge = "[" + String(repeating: "0,", count: length - 1) + "0]"
        return Data(valid.replacingOccurrences(of: "\"seed\": 0", with: "\"seed\": \(huge)").utf8)
      default:
        // a random chunk of the file spliced elsewhere
        let a = Int.random(in: 0..<bytes.count, using: &random)
        let b = Int.random(in: a...min(bytes.count, a + 64), using: &random)
        var mutated = bytes
        mutated.insert(contentsOf: bytes[a..<b], at: Int.random(in: 0...bytes.count, using: &random))
        return Data(mutated)
      }
    }
  }

  static var runFileJSON: String {
    String(decoding: try! RunDirectory.configurationJSON(TrainingPreset.quickstart.configuration), as: UTF8.self)
      .replacingOccurrences(of: "\" : ", with: "\": ")
  }

  /// The same settings in YAML: one `key: value` line per setting, nested ones as flow mappings.
  static var runFileYAML: String {
    let object = try! JSONSerialization.jsonObject(with: Data(runFileJSON.utf8)) as! [String: Any]
    return object.keys.sorted().map { key in
      "\(key): \(String(decoding: try! JSONSerialization.data(withJSONObject: object[key]!, options: [.fragmentsAllowed, .sortedKeys]), as: UTF8.self))"
    }.joined(separator: "\n")
  }

  static let gridJSON = """
    {"preset": "quickstart",
     "settings": {"epochs": 2, "perturbation.steps": 1, "seed": 0},
     "axes": {"method": ["at", {"label": "trades-ce", "method": "trades", "perturbation.loss": "ce"}], "agr": [false, true],
              "perturbation.epsilon": [0.1, 0.2]},
     "evaluation": {"pgd_steps": 5, "autoattack": "apgd-ce", "autoattack_examples": 8}}
    """

  static let gridYAML = """
    preset: quickstart
    settings: {epochs: 2, perturbation.steps: 1, seed: 0}
    axes:
      method: [at, {label: trades-ce, method: trades, perturbation.loss: ce}]
      agr: [false, true]
      perturbation.epsilon: [0.1, 0.2]
    evaluation: {pgd_steps: 5, autoattack: apgd-ce, autoattack_examples: 8}
    """

  @Test func runFileMutantsReadOrAreRefused() throws {
    for (valid, yaml, seed) in [(Self.runFileJSON, false, UInt64(13)), (Self.runFileYAML, true, UInt64(17))] {
      _ = try TrainingConfiguration.parse(Data(valid.utf8), yaml: yaml, file: "fuzz-run")
      var (read, refused) = (0, 0)
      for data in Self.mutants(of: valid, count: 1400, yaml: yaml, seed: seed) {
        do {
          _ = try TrainingConfiguration.parse(data, yaml: yaml, file: "fuzz-run")
          read += 1
        } catch is ConfigurationError {
          refused += 1
        } catch {
          Issue.record("\(yaml ? "YAML" : "JSON"): \(type(of: error)): \(error)")
        }
      }
      #expect(read + refused == 1400 && refused > 700 && read > 0, "\(yaml ? "YAML" : "JSON"): \(read) read, \(refused) refused")
    }
  }

  @Test func gridFileMutantsReadOrAreRefused() throws {
    for (valid, yaml, seed) in [(Self.gridJSON, false, UInt64(19)), (Self.gridYAML, true, UInt64(23))] {
      func runs(_ data: Data) throws -> [GridRun] {
        let tree: JSONValue
        do { tree = try StructuredText.parse(data, yaml: yaml) } catch let error as StructuredTextError {
          throw GridError(file: "fuzz-grid", error.message)
        }
        return try ExperimentGrid(tree, file: "fuzz-grid", name: "fuzz").runs()
      }
      #expect(try runs(Data(valid.utf8)).count == 8)
      var (read, refused) = (0, 0)
      for data in Self.mutants(of: valid, count: 1000, yaml: yaml, seed: seed) {
        do {
          let made = try runs(data)
          #expect(made.allSatisfy { PathComponentName.problem($0.name) == nil }, "\(made.map(\.name))")
          read += 1
        } catch let error as GridError {
          #expect(error.description.hasPrefix("fuzz-grid: "))
          refused += 1
        } catch {
          Issue.record("\(yaml ? "YAML" : "JSON"): \(type(of: error)): \(error)")
        }
      }
      #expect(read + refused == 1000 && refused > 400 && read > 0, "\(yaml ? "YAML" : "JSON"): \(read) read, \(refused) refused")
    }
  }
}

extension SettingsFileTests {
  /// Finding the key of a misfit number costs one decoding per candidate: a file of thousands of numbers
  /// ahead of it is not decoded thousands of times.
  @Test func aMisfitNumberBehindThousandsOfOthersIsRefusedQuickly() throws {
    let junk = JSONValue.object(Dictionary(uniqueKeysWithValues: (0..<5000).map { ("k\($0)", JSONValue.number(0.5)) }))
    let tree = try JSONValue.of(TrainingConfiguration()).setting("aaa", to: junk).setting("epochs", to: .number(1.5))
    let started = Date()
    #expect(throws: ConfigurationError.self) { _ = try TrainingConfiguration.decode(tree.data, file: "run.json") }
    #expect(Date().timeIntervalSince(started) < 10, "\(Date().timeIntervalSince(started)) s")
  }
}
