import Foundation
import Torch

/// The JSON header of a safetensors file, decoded and validated against the data buffer.
struct SafeTensorsHeader {
  struct Entry {
    let name: String
    let dtype: DType
    let shape: [Int]
    let range: Range<Int>
  }

  /// Tensors ordered by their position in the data buffer.
  let entries: [Entry]
  let metadata: [String: String]

  static let metadataKey = "__metadata__"
  /// The reference implementation refuses larger headers too.
  static let maximumHeaderLength = 100_000_000

  private struct RawEntry: Decodable {
    let dtype: String
    let shape: [Int]
    let data_offsets: [Int]
  }

  private struct AnyKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  private struct RawHeader: Decodable {
    var entries: [(String, RawEntry)] = []
    var metadata: [String: String] = [:]

    init(from decoder: Decoder) throws {
      let container = try decoder.container(keyedBy: AnyKey.self)
      for key in container.allKeys {
        if key.stringValue == SafeTensorsHeader.metadataKey {
          metadata = try container.decode([String: String].self, forKey: key)
        } else {
          entries.append((key.stringValue, try container.decode(RawEntry.self, forKey: key)))
        }
      }
    }
  }

  /// Decodes `json` and checks every entry against a data buffer of `bufferSize` bytes: as the format
  /// requires, the header is UTF-8 JSON with no key twice, and the tensors' byte ranges are contiguous,
  /// non-overlapping and cover the data buffer exactly (a header length off by a byte would otherwise
  /// shift every tensor without a word).
  init(json: Data, bufferSize: Int, file: String) throws {
    guard String(data: json, encoding: .utf8) != nil else {
      throw CheckpointError.malformed(file: file, detail: "the header is not UTF-8 text, so not the expected JSON")
    }
    if let duplicate = Self.duplicateTopLevelKey(in: json) {
      throw CheckpointError.malformed(file: file, detail: "the header names '\(duplicate)' twice")
    }
    let raw: RawHeader
    do {
      raw = try JSONDecoder().decode(RawHeader.self, from: json)
    } catch {
      throw CheckpointError.malformed(file: file, detail: "the header is not the expected JSON (\(Self.describe(error)))")
    }
    var entries = [Entry]()
    for (name, e) in raw.entries {
      guard let dtype = DType(safeTensorsName: e.dtype) else {
        throw CheckpointError.malformed(file: file, detail: "tensor '\(name)' has unknown dtype '\(e.dtype)'")
      }
      guard e.shape.allSatisfy({ $0 >= 0 }) else {
        throw CheckpointError.malformed(file: file, detail: "tensor '\(name)' has a negative size in shape \(e.shape)")
      }
      guard e.data_offsets.count == 2 else {
        throw CheckpointError.malformed(file: file, detail: "tensor '\(name)' needs data_offsets [begin, end], got \(e.data_offsets)")
      }
      let (begin, end) = (e.data_offsets[0], e.data_offsets[1])
      guard begin >= 0, begin <= end, end <= bufferSize else {
        throw CheckpointError.malformed(
          file: file, detail: "tensor '\(name)' has data_offsets [\(begin), \(end)] outside the \(bufferSize)-byte data buffer")
      }
      var byteCount = dtype.byteSize
      for size in e.shape {
        let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
        guard !overflow else {
          throw CheckpointError.malformed(file: file, detail: "tensor '\(name)' has an impossibly large shape \(e.shape)")
        }
        byteCount = product
      }
      guard end - begin == byteCount else {
        throw CheckpointError.malformed(
          file: file,
          detail: "tensor '\(name)' spans \(end - begin) bytes but \(dtype.safeTensorsName) \(e.shape) needs \(byteCount)")
      }
      entries.append(Entry(name: name, dtype: dtype, shape: e.shape, range: begin..<end))
    }
    entries.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
    for (previous, next) in zip(entries, entries.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
      throw CheckpointError.malformed(
        file: file, detail: "tensors '\(previous.name)' and '\(next.name)' overlap in the data buffer")
    }
    var covered = 0
    for entry in entries {
      guard entry.range.lowerBound == covered else {
        throw CheckpointError.malformed(
          file: file, detail: "bytes \(covered)..<\(entry.range.lowerBound) of the data buffer belong to no tensor "
            + "(before '\(entry.name)'): the header length or the offsets are wrong")
      }
      covered = entry.range.upperBound
    }
    guard covered == bufferSize else {
      throw CheckpointError.malformed(
        file: file, detail: "the tensors cover \(covered) bytes but the data buffer holds \(bufferSize): "
          + "the header length or the offsets are wrong, or bytes follow the data")
    }
    self.entries = entries
    self.metadata = raw.metadata
  }

  /// The first key that the header's top-level object holds twice (JSON decoders keep one silently).
  static func duplicateTopLevelKey(in json: Data) -> String? {
    var seen = Set<String>()
    var depth = 0
    var index = json.startIndex
    var lastString: Data?
    while index < json.endIndex {
      let byte = json[index]
      switch byte {
      case UInt8(ascii: "\""):
        let start = index
        index += 1
        while index < json.endIndex && json[index] != UInt8(ascii: "\"") {
          index += json[index] == UInt8(ascii: "\\") ? 2 : 1
        }
        guard index < json.endIndex else { return nil }  // unterminated: the decoder reports it
        lastString = json[start...index]
      case UInt8(ascii: ":"):
        if depth == 1, let token = lastString,
          let key = try? JSONDecoder().decode(String.self, from: Data(token)), !seen.insert(key).inserted
        {
          return key
        }
        lastString = nil
      case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
      default: break
      }
      index += 1
    }
    return nil
  }

  private static func describe(_ error: Error) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context): return context.debugDescription
    case DecodingError.keyNotFound(let key, let context): return "no '\(key.stringValue)' at \(path(context))"
    case DecodingError.typeMismatch(_, let context): return "\(context.debugDescription) at \(path(context))"
    case DecodingError.valueNotFound(_, let context): return "null at \(path(context))"
    default: return "\(error)"
    }
  }

  private static func path(_ context: DecodingError.Context) -> String {
    context.codingPath.isEmpty ? "top level" : context.codingPath.map(\.stringValue).joined(separator: ".")
  }
}
