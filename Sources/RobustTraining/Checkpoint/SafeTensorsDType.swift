import Torch

/// The safetensors dtype names this project reads and writes.
extension DType {
  public var safeTensorsName: String {
    switch self {
    case .float32: return "F32"
    case .bfloat16: return "BF16"
    case .float16: return "F16"
    case .int64: return "I64"
    case .uint8: return "U8"
    case .bool: return "BOOL"
    case .float64: return "F64"
    case .int32: return "I32"
    }
  }

  public init?(safeTensorsName: String) {
    guard let match = DType.allCases.first(where: { $0.safeTensorsName == safeTensorsName }) else { return nil }
    self = match
  }
}
