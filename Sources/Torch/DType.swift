import CTorch

/// Element types a tensor can hold.
public enum DType: CaseIterable, CustomStringConvertible, Sendable {
  case float32, bfloat16, float16, int64, uint8, bool, float64, int32

  /// The shim's code for this dtype.
  var code: ctorch_dtype {
    switch self {
    case .float32: return CT_FLOAT32
    case .bfloat16: return CT_BFLOAT16
    case .float16: return CT_FLOAT16
    case .int64: return CT_INT64
    case .uint8: return CT_UINT8
    case .bool: return CT_BOOL
    case .float64: return CT_FLOAT64
    case .int32: return CT_INT32
    }
  }

  /// The dtype the shim's `code` stands for (the shim only reports the codes above).
  init(code: ctorch_dtype) {
    switch code {
    case CT_FLOAT32: self = .float32
    case CT_BFLOAT16: self = .bfloat16
    case CT_FLOAT16: self = .float16
    case CT_INT64: self = .int64
    case CT_UINT8: self = .uint8
    case CT_BOOL: self = .bool
    case CT_FLOAT64: self = .float64
    case CT_INT32: self = .int32
    default: preconditionFailure("unknown dtype code \(code.rawValue) from the shim")
    }
  }

  public var isFloatingPoint: Bool { [.float32, .bfloat16, .float16, .float64].contains(self) }

  public var byteSize: Int {
    switch self {
    case .float32, .int32: return 4
    case .bfloat16, .float16: return 2
    case .int64, .float64: return 8
    case .uint8, .bool: return 1
    }
  }

  public var description: String {
    switch self {
    case .float32: return "float32"
    case .bfloat16: return "bfloat16"
    case .float16: return "float16"
    case .int64: return "int64"
    case .uint8: return "uint8"
    case .bool: return "bool"
    case .float64: return "float64"
    case .int32: return "int32"
    }
  }
}

/// Swift element types that map one to one onto a `DType`.
public protocol TensorScalar {
  static var dtype: DType { get }
  init()
}
extension Float: TensorScalar { public static var dtype: DType { .float32 } }
extension Double: TensorScalar { public static var dtype: DType { .float64 } }
extension Int64: TensorScalar { public static var dtype: DType { .int64 } }
extension Int32: TensorScalar { public static var dtype: DType { .int32 } }
extension UInt8: TensorScalar { public static var dtype: DType { .uint8 } }
extension Bool: TensorScalar { public static var dtype: DType { .bool } }
