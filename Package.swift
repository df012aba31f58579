// swift-tools-version:6.0
// The project's package: libtorch (via the CTorch shim) under a Swift tensor API, and the
// robust-training library and `agr` command-line tool built on it.
// `scripts/setup.sh` makes `.libtorch` point at the pinned torch 2.11.0 wheel's files.
import Foundation
import PackageDescription

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().path
let libtorch = "\(root)/.libtorch"
let rpaths = ["\(libtorch)/lib", "\(libtorch)/../nvidia/cu13/lib"]
// libjpeg(-turbo) is linked statically so that the binary carried to the GPU machine does not need it there
// (Debian: libjpeg62-turbo-dev, which `scripts/setup.sh` installs).
let jpegArchive = ["/usr/lib/x86_64-linux-gnu/libjpeg.a", "/usr/lib/aarch64-linux-gnu/libjpeg.a", "/usr/lib64/libjpeg.a",
  "/usr/local/lib/libjpeg.a", "/usr/lib/libjpeg.a", "/opt/homebrew/lib/libjpeg.a"]
  .first { FileManager.default.fileExists(atPath: $0) }

let package = Package(
  name: "AGR",
  platforms: [.macOS(.v14)],
  products: [
    .library(name: "Torch", targets: ["Torch"]),
    .library(name: "RobustTraining", targets: ["RobustTraining"]),
    .library(name: "RobustTrainingBench", targets: ["RobustTrainingBench"]),
    .executable(name: "agr", targets: ["agr"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // YAML run and grid files (JSON stays the format agr writes).
    .package(url: "https://github.com/jpsim/Yams", "5.0.1"..<"7.0.0"),
  ],
  targets: [
    .target(
      name: "CTorch",
      cxxSettings: [
        .unsafeFlags([
          // NDEBUG as libtorch itself is built (and PyTorch's C++ extensions): some of its classes have
          // members only without it (RecordFunction's inputs_valid_), and both sides must agree on the layout.
          "-std=c++17", "-O2", "-w", "-D_GLIBCXX_USE_CXX11_ABI=1", "-DNDEBUG",
          "-I\(libtorch)/include", "-I\(libtorch)/include/torch/csrc/api/include",
          // c10d's Gloo process group, whose header needs a few of Gloo's names (see the folder's README)
          "-DUSE_C10D_GLOO", "-I\(root)/Sources/CTorch/gloo-declarations",
        ])
      ],
      linkerSettings: [
        .unsafeFlags(
          ["-L\(libtorch)/lib", "-ltorch_cpu", "-lc10", "-Xlinker", "--allow-shlib-undefined"]
            + rpaths.flatMap { ["-Xlinker", "-rpath", "-Xlinker", $0] }),
        .linkedLibrary("dl"),
        .linkedLibrary("stdc++"),
      ]
    ),
    .target(name: "Torch", dependencies: ["CTorch"]),
    .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
    .target(
      name: "CJpeg",
      cSettings: [.unsafeFlags(["-O2"])],
      linkerSettings: [jpegArchive.map { .unsafeFlags(["-Xlinker", $0]) } ?? .linkedLibrary("jpeg")]
    ),
    .target(name: "RobustTraining", dependencies: ["Torch", "CZlib", "CJpeg", .product(name: "Yams", package: "Yams")]),
    // Timing, operation census, profiler traces and the fast-vs-plain trajectory check: measuring tools
    // over the library, which never depends on them.
    .target(name: "RobustTrainingBench", dependencies: ["RobustTraining"]),
    .target(
      name: "AGRCommands",
      dependencies: ["RobustTraining", "RobustTrainingBench",
                     .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    .executableTarget(name: "agr", dependencies: ["AGRCommands"]),
    .testTarget(name: "TorchTests", dependencies: ["Torch"]),
    .testTarget(name: "RobustTrainingTests", dependencies: ["RobustTraining", "CZlib"]),
    .testTarget(name: "RobustTrainingBenchTests", dependencies: ["RobustTrainingBench"]),
    .testTarget(name: "AGRCommandsTests", dependencies: ["AGRCommands"]),
  ],
  swiftLanguageModes: [.v5],
  cxxLanguageStandard: .cxx17
)
