import Foundation

/// The protocol buffer wire format for the few fields of TensorBoard's `Event` that the logs use.
///
/// Why by hand rather than swift-protobuf: the generated message types need `protoc` with
/// `protoc-gen-swift`, which this project's offline build cannot run, and writing the messages'
/// `SwiftProtobuf.Message` conformances by hand would be more code than the encoder itself. Only four
/// wire forms are needed (varint, 64-bit, 32-bit and length-delimited fields, packed doubles); the
/// tests read the files back, and `scripts/read_tensorboard.py` checks them with TensorBoard's own reader.
struct ProtobufWriter {
  private(set) var bytes: [UInt8] = []

  private mutating func varint(_ value: UInt64) {
    var v = value
    while v >= 0x80 {
      bytes.append(UInt8(v & 0x7F) | 0x80)
      v >>= 7
    }
    bytes.append(UInt8(v))
  }

  private mutating func key(_ field: Int, _ wireType: UInt64) { varint(UInt64(field) << 3 | wireType) }

  mutating func int64(_ field: Int, _ value: Int64) {
    key(field, 0)
    varint(UInt64(bitPattern: value))
  }

  mutating func double(_ field: Int, _ value: Double) {
    key(field, 1)
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
  }

  mutating func float(_ field: Int, _ value: Float) {
    key(field, 5)
    withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 }
  }

  mutating func bytes(_ field: Int, _ value: [UInt8]) {
    key(field, 2)
    varint(UInt64(value.count))
    bytes += value
  }

  mutating func string(_ field: Int, _ value: String) { bytes(field, Array(value.utf8)) }

  mutating func message(_ field: Int, _ build: (inout ProtobufWriter) -> Void) {
    var nested = ProtobufWriter()
    build(&nested)
    bytes(field, nested.bytes)
  }

  mutating func packedDoubles(_ field: Int, _ values: [Double]) {
    var packed = ProtobufWriter()
    for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { packed.bytes += $0 } }
    bytes(field, packed.bytes)
  }
}
