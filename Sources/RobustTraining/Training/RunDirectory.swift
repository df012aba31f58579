import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
  /// The weight average after the last finished epoch (runs that average weights).
  public var averagedModel: URL { url.appendingPathComponent("averaged.safetensors") }

  public func create() throws {
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw TrainingError.badRunDirectory("\(url.path): cannot create the run directory: \(describe(error))")
    }
  }

  /// The lock file that marks a run directory in use.
  public var lockFile: URL { url.appendingPathComponent(".lock") }

  /// Takes the run directory for this process (creating it): a second process that tries gets an error
  /// naming the one that holds it. The lock is the kernel's (`flock`), so it ends with the process,
  /// however that ends (kill -9 included).
  public func lock() throws -> RunLock {
    try create()
    let descriptor = open(lockFile.path, O_RDWR | O_CREAT, 0o644)
    guard descriptor >= 0 else {
      throw TrainingError.badRunDirectory("\(lockFile.path): cannot open the lock file: \(String(cString: strerror(errno)))")
    }
    guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
      let holder = (try? String(contentsOf: lockFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
      close(descriptor)
      throw TrainingError.runInUse(path: url.path, holder: holder.flatMap { $0.isEmpty ? nil : $0 })
    }
    let stamp = "process \(getpid()) on \(ProcessInfo.processInfo.hostName), since \(ISO8601DateFormatter().string(from: Date()))\n"
    _ = ftruncate(descriptor, 0)
    _ = stamp.withCString { write(descriptor, $0, strlen($0)) }
    return RunLock(descriptor: descriptor)
  }

  /// Removes the temporary files of writes that a killed process left behind (`.NAME.UUID.tmp`).
  public func removeInterruptedWrites() {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: url.path)) ?? []
    for name in names where AtomicFile.isTemporary(name) {
      try? FileManager.default.removeItem(at: url.appendingPathComponent(name))
    }
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
    try writing(config) { try AtomicFile.write(try Self.configurationJSON(c), to: config) }
  }

  /// Runs a write of `file`, turning a file-system error into one that names the file and the reason.
  func writing(_ file: URL, _ body: () throws -> Void) throws {
    do { try body() } catch let error as CheckpointError { throw error } catch {
      throw TrainingError.badRunDirectory("\(file.path): cannot write: \(describe(error))")
    }
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
      // through the settings-file reader's budget first (size, nesting, keys given twice): config.json may have
      // been edited or replaced since the run wrote it
      let data = try StructuredText.bytes(of: config)
      _ = try JSONText.tree(data)
      return try Self.decoder.decode(TrainingConfiguration.self, from: data)
    } catch let error as StructuredTextError {
      throw TrainingError.badRunDirectory("\(config.path) \(error.message)")
    } catch let error as DecodingError {
      throw TrainingError.badRunDirectory("\(config.path): cannot read the configuration: \(Self.decodingText(error))")
    } catch {
      throw TrainingError.badRunDirectory("\(config.path): cannot read the configuration: \(describe(error))")
    }
  }

  /// A decoding error in words: what is wrong, and the key ("perturbation.steps") where there is one.
  public static func decodingText(_ error: DecodingError) -> String {
    func at(_ context: DecodingError.Context) -> String {
      let key = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
      return key.isEmpty ? "" : " (at '\(key)')"
    }
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
      return context.debugDescription + at(context)
    case .keyNotFound(let key, let context): return "'\(key.stringValue)' is missing\(at(context))"
    @unknown default: return "\(error)"
    }
  }

  /// Rewrites metrics.jsonl and metrics.csv from `records` (atomically).
  public func writeMetrics(_ records: [EpochRecord]) throws {
    let lines = try records.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) }
    try writing(metricsJSONL) { try AtomicFile.write(Data((lines.map { $0 + "\n" }.joined()).utf8), to: metricsJSONL) }
    let csv = ([EpochRecord.csvColumns.joined(separator: ",")] + records.map(\.csvRow)).joined(separator: "\n") + "\n"
    try writing(metricsCSV) { try AtomicFile.write(Data(csv.utf8), to: metricsCSV) }
  }

  /// The epoch records, skipping lines that do not parse (an interrupted write leaves at most one).
  public func readMetrics() throws -> [EpochRecord] {
    guard let text = try? String(contentsOf: metricsJSONL, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { try? Self.decoder.decode(EpochRecord.self, from: Data($0.utf8)) }
  }

  public func appendDiagnostics(_ samples: [GradientSample]) throws {
    guard !samples.isEmpty else { return }
    let text = try samples.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    try writing(diagnostics) {
      if !FileManager.default.fileExists(atPath: diagnostics.path) {
        _ = FileManager.default.createFile(atPath: diagnostics.path, contents: nil)
      }
      let handle = try FileHandle(forWritingTo: diagnostics)
      defer { try? handle.close() }
      try handle.seekToEnd()
      try handle.write(contentsOf: Data(text.utf8))
      try handle.synchronize()
    }
  }

  public func readDiagnostics() -> [GradientSample] {
    guard let text = try? String(contentsOf: diagnostics, encoding: .utf8) else { return [] }
    return text.split(separator: "\n").compactMap { try? Self.decoder.decode(GradientSample.self, from: Data($0.utf8)) }
  }

  /// Drops diagnostics recorded after `epoch` (1-based), e.g. by a run killed mid-epoch.
  public func truncateDiagnostics(afterEpoch epoch: Int) throws {
    let kept = readDiagnostics().filter { $0.epoch <= epoch }
    let text = try kept.map { String(decoding: try Self.encoder.encode($0), as: UTF8.self) + "\n" }.joined()
    try writing(diagnostics) { try AtomicFile.write(Data(text.utf8), to: diagnostics) }
  }

  public func writeParameterIndex(_ index: ParameterIndex) throws {
    try writing(parameterIndex) { try AtomicFile.write(try Self.encoder.encode(index), to: parameterIndex) }
  }

  public func readParameterIndex() -> ParameterIndex? {
    guard let data = try? Data(contentsOf: parameterIndex) else { return nil }
    return try? Self.decoder.decode(ParameterIndex.self, from: data)
  }
}

/// A held run-directory lock; released when the value goes away (or the process ends).
public final class RunLock {
  private let descriptor: Int32

  init(descriptor: Int32) { self.descriptor = descriptor }

  deinit {
    _ = flock(descriptor, LOCK_UN)
    close(descriptor)
  }
}
