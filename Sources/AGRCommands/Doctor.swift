import ArgumentParser
import Foundation
import RobustTraining

/// Reports the toolchain, the engine and the device, and checks that the device computes.
struct Doctor: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Show Swift, libtorch and CUDA versions and check the chosen device (bf16 included).")

  @Option(help: "Device to check: cpu, cuda or cuda:N.")
  var device: String = "cpu"

  func run() throws { try reportingErrors(Doctor.self, execute) }

  private func execute() throws {
    let device: Device
    do { device = try Device(parsing: self.device) } catch { throw ValidationError("--device: \(error)") }
    print("swift:     \(swiftVersion)")
    print("libtorch:  \(Torch.version)")
    print("cpu:       \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Torch.threadCount) libtorch threads")
    if case .cuda(let index) = device {
      do {
        try CUDA.load()
      } catch {
        throw failure("CUDA was requested (--device \(self.device)) but cannot be used: \(error)")
      }
      guard index < CUDA.deviceCount else {
        throw failure("CUDA device \(index) does not exist: \(CUDA.deviceCount) device(s) found")
      }
      print("cuda:      runtime \(formatVersion((try? CUDA.runtimeVersion()) ?? 0)), \(CUDA.deviceCount) device(s)")
      print("device:    \(device) \(try CUDA.deviceName(index))")
      let tf32 = try CUDA.tf32()
      print("tf32:      convolutions \(tf32.convolutions ? "on" : "off"), matmuls \(tf32.matmuls ? "on" : "off") "
        + "(PyTorch's defaults: on, off)")
    } else {
      print("cuda:      not requested (use --device cuda to check the GPU)")
      print("device:    cpu")
    }
    let (fp32, bf16) = try checkCompute(on: device)
    print("compute:   fp32 matmul \(fp32 ? "ok" : "WRONG")")
    print("bf16:      \(bf16 ?? "not usable")")
    if !fp32 { throw failure("fp32 matmul on \(device) gave a wrong result") }
  }

  /// A small matmul against its known value, in fp32 and in bf16 (under autocast).
  private func checkCompute(on device: Device) throws -> (Bool, String?) {
    let a = try Tensor.arange(0, 12, dtype: .float32, device: device).reshaped([3, 4])
    let b = try Tensor.ones([4, 2], device: device)
    let expected = try Tensor([6, 6, 22, 22, 38, 38] as [Float], shape: [3, 2], device: device)
    let fp32 = try a.matmul(b).allClose(expected)
    var bf16: String?
    do {
      let product = try Torch.withAutocast(device: device, dtype: .bfloat16) { try a.matmul(b) }
      let exact = try product.to(.float32).allClose(expected, rtol: 1e-2, atol: 1e-2)
      bf16 = exact ? "ok (autocast matmul gives \(product.dtype))" : "gave wrong values"
    } catch {
      bf16 = nil
    }
    return (fp32, bf16)
  }

  private func failure(_ message: String) -> Error {
    FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    return ExitCode(1)
  }

  private func formatVersion(_ v: Int) -> String { "\(v / 1000).\((v % 1000) / 10)" }

  private var swiftVersion: String {
    #if compiler(>=6.3)
      return "6.3 or later"
    #elseif compiler(>=6.2)
      return "6.2"
    #elseif compiler(>=6.1)
      return "6.1"
    #else
      return "6.0"
    #endif
  }
}
