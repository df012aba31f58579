import ArgumentParser
import Foundation
import Testing

@testable import AGRCommands
@testable import RobustTraining

/// `agr train --config FILE`: the JSON --dry-run prints (and a run's config.json) read back strictly.
@Suite struct RunFileTests {
  func file(_ text: String, extension: String = "json") throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("agr-config-\(UUID().uuidString).\(`extension`)")
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url
  }

  func configuration(_ arguments: [String]) throws -> TrainingConfiguration {
    try Train.parse(arguments).buildConfiguration()
  }

  func dryRun(_ arguments: [String]) throws -> String {
    String(decoding: try RunDirectory.configurationJSON(try configuration(arguments)), as: UTF8.self)
  }

  @Test func theDryRunsJSONReadsBackAsTheSameConfiguration() throws {
    for arguments in [["--preset", "cifar10", "--method", "trades", "--trades-attack", "ce", "--weight-averaging", "0.99"],
                      [], ["--preset", "tiny-imagenet", "--normalization", "0.5,0.5,0.5/0.2,0.2,0.2", "--device", "cuda:1"]] {
      let expected = try configuration(arguments)
      let url = try file(try dryRun(arguments))
      defer { try? FileManager.default.removeItem(at: url) }
      #expect(try configuration(["--config", url.path]) == expected, "\(arguments)")
      var changed = expected
      changed.epochs = 7
      changed.learningRate = 0.02
      changed.schedule = expected.schedule.rebased(to: 0.02)
      #expect(try configuration(["--config", url.path, "--epochs", "7", "--lr", "0.02"]) == changed, "flags override the file")
    }
  }

  @Test func aRunFileIsStrictAndErrorsNameTheKey() throws {
    let valid = try JSONSerialization.jsonObject(with: Data(try dryRun(["--preset", "cifar10"]).utf8)) as! [String: Any]
    func edited(_ change: (inout [String: Any]) -> Void) throws -> URL {
      var object = valid
      change(&object)
      return try file(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
    }
    let cases: [(URL, String)] = [
      (try edited { $0["epocs"] = 3 }, "epocs"),
      (try edited { var p = $0["perturbation"] as! [String: Any]; p["stepsize"] = 0.1; $0["perturbation"] = p }, "perturbation.stepsize"),
      (try edited { $0["epochs"] = "ten" }, "epochs"),
      (try edited { $0["epochs"] = 0 }, "epochs"),
      (try edited { $0["seed"] = NSNull() }, "seed"),
      (try edited { $0.removeValue(forKey: "batch_size") }, "batch_size"),
      (try edited { $0["device"] = "tpu" }, "device"),
      (try edited { $0["method"] = "awp" }, "method"),
      (try file("[1, 2]"), "JSON object"),
      (try file("{not json"), "not JSON"),
    ]
    for (url, key) in cases {
      defer { try? FileManager.default.removeItem(at: url) }
      do {
        _ = try configuration(["--config", url.path])
        Issue.record("\(key): accepted")
      } catch let error as ValidationError {
        #expect(error.message.contains("--config \(url.path)") && error.message.contains(key), "\(error.message)")
      }
    }
    #expect(throws: ValidationError.self) { _ = try configuration(["--config", "/nonexistent.json"]) }
    #expect(throws: ValidationError.self) { _ = try configuration(["--config", "/dev/null", "--preset", "cifar10"]) }
  }

  @Test func aYAMLRunFileIsTheSameSettingsAndAsStrict() throws {
    let yaml = try file("""
      # the quick-start job with other settings
      dataset: fashion-mnist
      epochs: 2
      method: trades
      perturbation: {epsilon: 0.1, step_size: 0.04, steps: 3, loss: kl}
      seed: 7
      """, extension: "yaml")
    defer { try? FileManager.default.removeItem(at: yaml) }
    let json = try JSONSerialization.jsonObject(with: Data(try dryRun([]).utf8)) as! [String: Any]
    var full = json
    full["epochs"] = 2
    full["method"] = "trades"
    full["perturbation"] = ["epsilon": 0.1, "step_size": 0.04, "steps": 3, "loss": "kl"]
    full["seed"] = 7
    // a YAML file holds every setting, as a JSON one does: write the whole dry run with these changes
    let fullYAML = try file(full.keys.sorted().map { key -> String in
      let value = try JSONSerialization.data(withJSONObject: full[key]!, options: [.fragmentsAllowed])
      return "\(key): \(String(decoding: value, as: UTF8.self))"
    }.joined(separator: "\n"), extension: "yml")
    defer { try? FileManager.default.removeItem(at: fullYAML) }
    let read = try configuration(["--config", fullYAML.path])
    #expect(read.epochs == 2 && read.method == .trades && read.perturbation.loss == .kl && read.seed == 7)
    do {
      _ = try configuration(["--config", yaml.path])
      Issue.record("a YAML file missing required settings was accepted")
    } catch let error as ValidationError {
      #expect(error.message.contains(yaml.path) && error.message.contains("required but missing"), "\(error.message)")
    }
    let typo = try file("epocs: 3\n", extension: "yaml")
    defer { try? FileManager.default.removeItem(at: typo) }
    #expect(throws: ValidationError.self) { _ = try configuration(["--config", typo.path]) }
    let broken = try file("epochs: [1,\n", extension: "yaml")
    defer { try? FileManager.default.removeItem(at: broken) }
    do { _ = try configuration(["--config", broken.path]) } catch let error as ValidationError {
      #expect(error.message.contains("is not YAML"), "\(error.message)")
    }
  }

  /// YAML's "billion laughs": nine levels of nine aliases, 9^9 values from under 1 KB.
  static let billionLaughs = """
    a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
    b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
    c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
    d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
    e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
    f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
    g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
    h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
    i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
    """

  /// Hostile run files: each refused by `--config` with the file and the key at fault, before anything runs.
  @Test func hostileRunFilesAreRefusedNamingTheFileAndTheKey() throws {
    let valid = try dryRun([])
    func replaced(_ old: String, _ new: String) -> String {
      precondition(valid.contains(old), old)
      return valid.replacingOccurrences(of: old, with: new)
    }
    let epochs = #""epochs" : 3"#
    let cases: [(String, String, [String])] = [
      (replaced(epochs, #""epochs" : 1, "epochs" : 3"#), "json", ["epochs", "twice"]),
      (replaced(epochs, #""epochs" : 1.5"#), "json", ["epochs", "whole number", "1.5"]),
      (replaced(epochs, #""epochs" : 100000000000000000000"#), "json", ["epochs", "whole number"]),
      (replaced(epochs, #""epochs" : 1e400"#), "json", ["epochs", "out of range"]),
      (replaced(#""seed" : 0"#, #""seed" : -1"#), "json", ["seed", "whole number", "-1"]),
      (replaced(#""epsilon" : 0.1"#, #""epsilon" : .nan"#), "yaml", ["perturbation.epsilon", "not a finite number"]),
      (replaced(#""seed" : 0"#, #""seed" : .inf"#), "yml", ["seed", "not a finite number"]),
      (replaced(epochs, #""epochs" : 1, "epochs" : 3"#), "yaml", ["epochs", "twice"]),
      (Self.billionLaughs, "yaml", ["more than 100000 values"]),
      (String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000), "json", ["nested more than 64 levels"]),
      (valid + String(repeating: " ", count: 2 << 20), "json", ["larger than 1 MiB"]),
    ]
    for (text, kind, words) in cases {
      let url = try file(text, extension: kind)
      defer { try? FileManager.default.removeItem(at: url) }
      let started = Date()
      do {
        _ = try configuration(["--config", url.path])
        Issue.record("\(words): accepted")
      } catch let error as ValidationError {
        #expect(error.message.contains("--config \(url.path)") && words.allSatisfy(error.message.contains), "\(words): \(error.message)")
      }
      #expect(Date().timeIntervalSince(started) < 5, "\(words): took \(Date().timeIntervalSince(started)) s")
    }
  }
}
