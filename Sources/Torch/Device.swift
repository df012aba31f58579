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

  init(code: Int32) { self = code < 0 ? .cpu : .cuda(Int(code)) }

  var code: Int32 {
    switch self {
    case .cpu: return -1
    case .cuda(let k): return Int32(k)
    }
  }

  public var isCUDA: Bool { if case .cuda = self { return true } else { return false } }

  public var description: String {
    switch self {
    case .cpu: return "cpu"
    case .cuda(let k): return "cuda:\(k)"
    }
  }
}

/// Memory layouts for 4-D tensors.
public enum MemoryFormat: Int32, Sendable {
  case contiguous = 0
  case channelsLast = 1
}
