import Foundation

/// A TensorBoard event file (`events.out.tfevents.*`): TFRecord framing of serialized `Event`s, each record
/// the payload's length (8 bytes, little-endian), the length's masked CRC-32C, the payload, and the
/// payload's masked CRC-32C.
public final class EventFile {
  public let url: URL
  private let handle: FileHandle

  /// Creates a new event file in `folder` (made if missing), starting with the file-version event.
  public init(folder: URL, wallTime: Double = Date().timeIntervalSince1970) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let host = ProcessInfo.processInfo.hostName.replacingOccurrences(of: "/", with: "-")
    url = folder.appendingPathComponent("events.out.tfevents.\(Int(wallTime)).\(host).\(getpid()).\(UUID().uuidString.prefix(8))")
    guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
      throw TrainingError.badRunDirectory("\(url.path): cannot create the TensorBoard event file")
    }
    handle = try FileHandle(forWritingTo: url)
    try write(TensorBoardEvent(wallTime: wallTime, step: 0, fileVersion: "brain.Event:2"))
  }

  deinit { try? handle.close() }

  static func record(_ payload: [UInt8]) -> [UInt8] {
    var out = [UInt8]()
    let length = withUnsafeBytes(of: UInt64(payload.count).littleEndian, Array.init)
    out += length
    out += withUnsafeBytes(of: CRC32C.masked(length).littleEndian, Array.init)
    out += payload
    out += withUnsafeBytes(of: CRC32C.masked(payload).littleEndian, Array.init)
    return out
  }

  func write(_ event: TensorBoardEvent) throws {
    try handle.write(contentsOf: Data(Self.record(event.bytes)))
  }

  /// Makes what was written readable by TensorBoard now (it reads files while they grow).
  public func flush() throws { try handle.synchronize() }

  /// The payloads of a file's records; throws on a bad length or checksum. A record cut short at the end
  /// (a process killed while writing) ends the list, as TensorBoard's reader treats it.
  public static func records(in url: URL) throws -> [[UInt8]] {
    let data = [UInt8](try Data(contentsOf: url))
    var records = [[UInt8]](), offset = 0
    func uint32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(data[at + $1]) << (8 * $1) } }
    while offset + 12 <= data.count {
      let lengthBytes = Array(data[offset..<offset + 8])
      guard uint32(offset + 8) == CRC32C.masked(lengthBytes) else { throw EventFileError("\(url.path): bad length checksum at byte \(offset)") }
      let length = Int((0..<8).reduce(UInt64(0)) { $0 | UInt64(lengthBytes[$1]) << (8 * $1) })
      guard offset + 12 + length + 4 <= data.count else { break }
      let payload = Array(data[offset + 12..<offset + 12 + length])
      guard uint32(offset + 12 + length) == CRC32C.masked(payload) else { throw EventFileError("\(url.path): bad data checksum at byte \(offset)") }
      records.append(payload)
      offset += 12 + length + 4
    }
    return records
  }
}

public struct EventFileError: Error, CustomStringConvertible {
  public let description: String
  init(_ d: String) { description = d }
}
