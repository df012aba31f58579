import CTorch

/// Where a tensor lives.
public enum Device: Hashable, CustomStringConvertible, Sendable {
  case cpu
  case cuda(Int)

  /// Parses "cpu", "cuda" or "cuda:N".
  public init(parsing text: String) throws {
    let t = text.lowercased()
    if t == "cpu" {
      self = .cpu
    } else if t == "cuda" || t == "gpu" {
      self = .cuda(0)
    } else if t.hasPrefix("cuda:"), let k = Int(t.dropFirst(5)), k >= 0 {
      self = .cuda(k)
    } else {
      throw TorchError("unknown device '\(text)': expected cpu, cuda or cuda:N")
    }
  }

  /// The device the shim's `code` stands for: CT_CPU (any negative code), else CUDA device `code`.
  init(code: ctorch_device) { self = code.rawValue < 0 ? .cpu : .cuda(Int(code.rawValue)) }

  /// The shim's code for this device: CT_CPU, or the CUDA device's index.
  var code: ctorch_device {
    switch self {
    case .cpu: return CT_CPU
    case .cuda(let k): return ctorch_device(rawValue: Int32(k))
    }
  }

  /// The shim's code for this device's kind (autocast).
  var typeCode: ctorch_device_type { isCUDA ? CT_DEVICE_TYPE_CUDA : CT_DEVICE_TYPE_CPU }

  public var isCUDA: Bool { if case .cuda = self { return true } else { return false } }

  public var description: String {
    switch self {
    case .cpu: return "cpu"
    case .cuda(let k): return "cuda:\(k)"
    }
  }
}

/// Memory layouts for 4-D tensors.
public enum MemoryFormat: Sendable {
  case contiguous
  case channelsLast

  /// The shim's code for this format.
  var code: ctorch_memory_format {
    switch self {
    case .contiguous: return CT_CONTIGUOUS
    case .channelsLast: return CT_CHANNELS_LAST
    }
  }
}
