import Foundation
import Torch

/// Named tensors and string metadata in the safetensors format: an 8-byte little-endian header
/// length N, N bytes of JSON header, then the raw little-endian tensor data.
public struct SafeTensors {
  /// Tensors in file order (by position in the data buffer when read).
  public var tensors: [(name: String, tensor: Tensor)]
  public var metadata: [String: String]

  public init(tensors: [(name: String, tensor: Tensor)] = [], metadata: [String: String] = [:]) {
    self.tensors = tensors
    self.metadata = metadata
  }

  public var names: [String] { tensors.map(\.name) }

  public subscript(name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }

  /// Reads and fully validates `url`; tensors are created on `device`.
  public static func read(from url: URL, device: Device = .cpu) throws -> SafeTensors {
    guard FileManager.default.fileExists(atPath: url.path) else { throw CheckpointError.missingFile(url.path) }
    let bytes: Data
    do {
      bytes = try Data(contentsOf: url)
    } catch {
      throw CheckpointError.io(file: url.path, reason: "cannot read: \(describe(error))")
    }
    return try decode(bytes, file: url.path, device: device)
  }

  /// Writes atomically: the file is complete or untouched, never half-written.
  public func write(to url: URL) throws { try write(to: url, beforeRename: {}) }

  func write(to url: URL, beforeRename: () -> Void) throws {
    try AtomicFile.write(try encoded(file: url.path), to: url, beforeRename: beforeRename)
  }

  /// Parses safetensors bytes; `file` only names the source in errors.
  public static func decode(_ bytes: Data, file: String = "<memory>", device: Device = .cpu) throws -> SafeTensors {
    let bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
    guard bytes.count >= 8 else {
      throw CheckpointError.malformed(file: file, detail: "\(bytes.count) bytes, too short for the 8-byte header length")
    }
    let headerLength = bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    guard headerLength <= UInt64(bytes.count - 8) else {
      throw CheckpointError.malformed(
        file: file, detail: "the header length \(headerLength) runs past the end of the \(bytes.count)-byte file")
    }
    guard headerLength <= UInt64(SafeTensorsHeader.maximumHeaderLength) else {
      throw CheckpointError.malformed(file: file, detail: "the header length \(headerLength) is implausibly large")
    }
    let dataStart = 8 + Int(headerLength)
    let header = try SafeTensorsHeader(
      json: bytes.subdata(in: 8..<dataStart), bufferSize: bytes.count - dataStart, file: file)

    var tensors = [(name: String, tensor: Tensor)]()
    for entry in header.entries {
      let slice = bytes[(dataStart + entry.range.lowerBound)..<(dataStart + entry.range.upperBound)]
      tensors.append((entry.name, try TensorBytes.tensor(from: slice, entry: entry, file: file).to(device)))
    }
    return SafeTensors(tensors: tensors, metadata: header.metadata)
  }

  /// The file's bytes. Tensors are laid out in order; the header is padded with spaces so the
  /// data starts 8-byte aligned (as the reference writer does).
  public func encoded(file: String = "<memory>") throws -> Data {
    var seen = Set<String>()
    var buffers = [Data]()
    var header = [String: HeaderEntry]()
    var offset = 0
    for (name, tensor) in tensors {
      guard name != SafeTensorsHeader.metadataKey else {
        throw CheckpointError.unsupported(file: file, detail: "'\(name)' is reserved and cannot name a tensor")
      }
      guard seen.insert(name).inserted else {
        throw CheckpointError.unsupported(file: file, detail: "two tensors are named '\(name)'")
      }
      let data = try TensorBytes.bytes(of: tensor)
      header[name] = HeaderEntry(dtype: tensor.dtype.safeTensorsName, shape: tensor.shape,
                                 data_offsets: [offset, offset + data.count])
      buffers.append(data)
      offset += data.count
    }
    var json = try Self.headerJSON(header, metadata: metadata, file: file)
    json.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - json.count % 8) % 8))

    var out = Data(capacity: 8 + json.count + offset)
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(json)
    for buffer in buffers { out.append(buffer) }
    return out
  }

  private struct HeaderEntry: Encodable {
    let dtype: String
    let shape: [Int]
    let data_offsets: [Int]
  }

  private struct EncodedHeader: Encodable {
    let entries: [String: HeaderEntry]
    let metadata: [String: String]

    private struct Key: CodingKey {
      let stringValue: String
      var intValue: Int? { nil }
      init(stringValue: String) { self.stringValue = stringValue }
      init?(intValue: Int) { nil }
    }

    func encode(to encoder: Encoder) throws {
      var container = encoder.container(keyedBy: Key.self)
      if !metadata.isEmpty { try container.encode(metadata, forKey: Key(stringValue: SafeTensorsHeader.metadataKey)) }
      for (name, entry) in entries { try container.encode(entry, forKey: Key(stringValue: name)) }
    }
  }

  private static func headerJSON(_ entries: [String: HeaderEntry], metadata: [String: String], file: String) throws
    -> Data
  {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return try encoder.encode(EncodedHeader(entries: entries, metadata: metadata))
    } catch {
      throw CheckpointError.unsupported(file: file, detail: "cannot encode the header: \(error)")
    }
  }
}
