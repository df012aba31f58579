import Foundation

/// The files of one training run:
///
///     config.json                 the full TrainingConfiguration
///     metrics.jsonl, metrics.csv  one EpochRecord per epoch
///     diagnostics.jsonl           GradientSample lines (per-tensor cosine and norms)
///     parameters.json             ParameterIndex: names/kinds/shapes the samples refer to
///     last.safetensors            model after the last finished epoch (PyTorch state_dict keys)
///     last-state.safetensors      optimizer momentum, epoch and records, for --resume
///     best.safetensors            model with the best test robust (or clean) accuracy so far
public struct RunDirectory: Sendable {
  public let url: URL

  public init(_ url: URL) { self.url = url }

  public var config: URL { url.appendingPathComponent("config.json") }
  public var metricsJSONL: URL { url.appendingPathComponent("metrics.jsonl") }
  public var metricsCSV: URL { url.appendingPathComponent("metrics.csv") }
  public var diagnostics: URL { url.appendingPathComponent("diagnostics.jsonl") }
  public var parameterIndex: URL { url.appendingPathComponent("parameters.json") }
  public var lastModel: URL { url.appendingPathComponent("last.safetensors") }
  public var lastState: URL { url.appendingPathComponent("last-state.safetensors") }
  public var bestModel: URL { url.appendingPathComponent("best.safetensors") }

  public func create() throws {
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  /// Whether this folder looks like a run (it has a config.json).
  public var isRun: Bool { FileManager.default.fileExists(atPath: config.path) }

  static let encoder: JSONEncoder = {
    let e = JSONEncoder()
    e.keyEncodingStrategy = .convertToSnakeCase
    e.outputFormatting = [.sortedKeys]
    return e
  }()

  static let decoder: JSONDecoder = {
    let d = JSONDecoder()
    d.keyDecodingStrategy = .convertFromSnakeCase
    return d
  }()

  public func writeConfiguration(_ c: TrainingConfiguration) throws {
    try Self.configurationJSON(c).write(to: config, options: .atomic)
  }

  /// The configuration as `config.json` holds it.
  public static func configurationJSON(_ c: TrainingConfiguration) throws -> Data {
    let e = JSONEncoder()
    e.outputFormatting = [.prettyPrinted, .sortedKeys]
    e.keyEncodingStrategy = .convertToSnakeCase
    return try e.encode(c)
  }

  public func readConfiguration() throws -> TrainingConfiguration {
    guard isRun else { throw TrainingError.badRunDirectory("\(url.path) is not a run directory (no config.json)") }
    do {
      return try Self.decoder.decode(TrainingConfiguration.self, from: Data(contentsOf: config))
    } catch {
      throw TrainingError.badRunDirectory("\(config.path): cannot read the configuration: \(error)")
    }
  }

  /// Rewrites metrics.jsonl and metrics.csv from `records` (atomically).
  public func writeMetrics(_ records: [EpochRecord]) throws {
    let lines = try records.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
    try (lines.map { $0 + "\n" }.joined()).write(to: metricsJSONL, atomically: true, encoding: .utf8)
    let csv = ([EpochRecord.csvColumns.joined(separator: ",")] + records.map(\.csvRow)).joined(separator: "\n") + "\n"
    try csv.write(to: metricsCSV, atomically: true, encoding: .utf8)
  }

  /// The epoch records, skipping lines that do not parse (an interrupted write leaves at most one).
  public func readMetrics() throws -> [EpochRecord] {
    guard let text = try? String(contentsOf: metricsJSONL, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { try? Self.decoder.decode(EpochRecord.self, from: Data($0.utf8)) }
  }

  public func appendDiagnostics(_ samples: [GradientSample]) throws {
    guard !samples.isEmpty else { return }
    let text = try samples.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    if !FileManager.default.fileExists(atPath: diagnostics.path) {
      _ = FileManager.default.createFile(atPath: diagnostics.path, contents: nil)
    }
    let handle = try FileHandle(forWritingTo: diagnostics)
    defer { try? handle.close() }
    try handle.seekToEnd()
    try handle.write(contentsOf: Data(text.utf8))
  }

  public func readDiagnostics() -> [GradientSample] {
    guard let text = try? String(contentsOf: diagnostics, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { try? Self.decoder.decode(GradientSample.self, from: Data($0.utf8)) }
  }

  /// Drops diagnostics recorded after `epoch` (1-based), e.g. by a run killed mid-epoch.
  public func truncateDiagnostics(afterEpoch epoch: Int) throws {
    let kept = readDiagnostics().filter { $0.epoch <= epoch }
    try? FileManager.default.removeItem(at: diagnostics)
    try appendDiagnostics(kept)
  }

  public func writeParameterIndex(_ index: ParameterIndex) throws {
    try Self.encoder.encode(index).write(to: parameterIndex, options: .atomic)
  }

  public func readParameterIndex() -> ParameterIndex? {
    guard let data = try? Data(contentsOf: parameterIndex) else { return nil }
    return try? Self.decoder.decode(ParameterIndex.self, from: data)
  }
}
