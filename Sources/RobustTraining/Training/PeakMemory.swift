import Foundation
import Torch

/// The peak memory a run reports, as the FastAT benchmark does: on a CUDA device the caching allocator's most
/// bytes allocated (`torch.cuda.max_memory_allocated`) since the process started; on the CPU the process's
/// resident-set high-water mark (`VmHWM` in /proc/self/status, Linux only), which includes libtorch, the
/// dataset and everything else the process holds. nil where neither can be read.
enum PeakMemory {
  static func bytes(on device: Device) -> Double? {
    if case .cuda(let index) = device { return (try? CUDA.memoryStats(index)).map { Double($0.peakAllocatedBytes) } }
    return residentHighWaterMark()
  }

  static func residentHighWaterMark() -> Double? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
      let fields = line.split(separator: " ", omittingEmptySubsequences: true)
      guard fields.count >= 3, let kilobytes = Double(fields[1]), fields[2] == "kB" else { return nil }
      return kilobytes * 1024
    }
    return nil
  }
}
