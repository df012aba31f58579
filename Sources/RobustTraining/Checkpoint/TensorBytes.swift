import Foundation
import Torch

/// A tensor's elements as little-endian bytes, row-major, and back (the hosts Swift runs on are little-endian).
enum TensorBytes {
  static func bytes(of tensor: Tensor) throws -> Data {
    switch tensor.dtype {
    case .float32: return raw(try tensor.toArray(Float.self))
    case .float64: return raw(try tensor.toArray(Double.self))
    case .int64: return raw(try tensor.toArray(Int64.self))
    case .int32: return raw(try tensor.toArray(Int32.self))
    case .uint8: return raw(try tensor.toArray(UInt8.self))
    case .bool: return raw(try tensor.toArray(Bool.self).map { UInt8($0 ? 1 : 0) })
    case .bfloat16: return raw(try tensor.toArray(Float.self).map(HalfPrecisionBits.floatToBFloat16))
    case .float16: return raw(try tensor.toArray(Float.self).map(HalfPrecisionBits.floatToFloat16))
    }
  }

  static func tensor(from bytes: Data, entry: SafeTensorsHeader.Entry, file: String) throws -> Tensor {
    let shape = entry.shape
    switch entry.dtype {
    case .float32: return try Tensor(values(bytes, as: Float.self), shape: shape)
    case .float64: return try Tensor(values(bytes, as: Double.self), shape: shape)
    case .int64: return try Tensor(values(bytes, as: Int64.self), shape: shape)
    case .int32: return try Tensor(values(bytes, as: Int32.self), shape: shape)
    case .uint8: return try Tensor([UInt8](bytes), shape: shape)
    case .bool:
      // Any byte but 0 or 1 would be an invalid Swift Bool.
      if let bad = bytes.first(where: { $0 > 1 }) {
        throw CheckpointError.malformed(file: file, detail: "tensor '\(entry.name)' is BOOL but holds the byte \(bad)")
      }
      return try Tensor(bytes.map { $0 == 1 }, shape: shape)
    case .bfloat16:
      return try Tensor(values(bytes, as: UInt16.self).map(HalfPrecisionBits.bfloat16ToFloat), shape: shape).to(.bfloat16)
    case .float16:
      return try Tensor(values(bytes, as: UInt16.self).map(HalfPrecisionBits.float16ToFloat), shape: shape).to(.float16)
    }
  }

  private static func raw<T>(_ values: [T]) -> Data { values.withUnsafeBytes { Data($0) } }

  private static func values<T>(_ bytes: Data, as: T.Type) -> [T] {
    let count = bytes.count / MemoryLayout<T>.size
    return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
      bytes.withUnsafeBytes { source in
        UnsafeMutableRawBufferPointer(buffer).copyMemory(from: UnsafeRawBufferPointer(rebasing: source[0..<(count * MemoryLayout<T>.size)]))
      }
      initialized = count
    }
  }
}
