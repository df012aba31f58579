import Foundation
import Testing

@testable import Torch

/// The NCCL library's loading code, on a machine without a GPU: refused for want of CUDA with what to do;
/// the built library (scripts/build-nccl.sh, which scripts/test.sh runs) found by path and opened far enough
/// to fail at libtorch_cuda.so, which only GPU machines can load; a missing file and a library without the
/// entry points named as such.
@Suite(.serialized) struct NCCLLibraryTests {
  static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
  static let built = repository.appendingPathComponent(".build/nccl/libctorch_nccl.so").path

  @Test func withoutCUDATheLibraryIsRefusedWithTheReason() throws {
    guard !CUDA.isAvailable else { return }
    let error = #expect(throws: TorchError.self) { try NCCL.loadLibrary(path: Self.built) }
    #expect(error?.message.contains("NCCL needs CUDA GPUs") == true, "\(String(describing: error))")
    #expect(error?.message.contains("--dist-backend gloo") == true)
    #expect(throws: TorchError.self) { _ = try NCCL.version() }
  }

  @Test func theBuiltLibraryOpensUpToLibtorchCUDA() throws {
    #expect(FileManager.default.fileExists(atPath: Self.built), "\(Self.built) is missing: run scripts/build-nccl.sh")
    guard !CUDA.isAvailable else { return }
    let error = #expect(throws: TorchError.self) { try NCCL.probeLibrary(path: Self.built) }
    let message = error?.message ?? ""
    #expect(message.contains("cannot open \(Self.built)") && message.contains("libtorch_cuda.so"), "\(message)")
    #expect(message.contains("scripts/build-nccl.sh"))
  }

  @Test func aMissingFileAndAForeignLibraryAreNamed() throws {
    let missing = "/nonexistent/libctorch_nccl.so"
    let absent = #expect(throws: TorchError.self) { try NCCL.probeLibrary(path: missing) }
    #expect(absent?.message.contains("cannot open \(missing)") == true, "\(String(describing: absent))")
    // a library that loads anywhere but is not ours
    let foreign = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/aarch64-linux-gnu/libz.so.1"]
      .first { FileManager.default.fileExists(atPath: $0) }
    #expect(foreign != nil, "no libz.so.1 to stand in for a foreign library")
    if let foreign {
      let error = #expect(throws: TorchError.self) { try NCCL.probeLibrary(path: foreign) }
      #expect(error?.message.contains("lacks ctn_process_group_new") == true, "\(String(describing: error))")
    }
  }

  @Test func thePathComesFromTheArgumentTheEnvironmentOrBesideTheExecutable() {
    #expect(NCCL.libraryPath("/x/y.so") == "/x/y.so")
    let beside = NCCL.libraryPath()
    if let variable = ProcessInfo.processInfo.environment["AGR_NCCL_LIBRARY"], !variable.isEmpty {
      #expect(beside == variable)
    } else {
      #expect(beside.hasSuffix("/libctorch_nccl.so"))
      let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
      #expect(beside == executable + "/libctorch_nccl.so")
    }
  }
}
