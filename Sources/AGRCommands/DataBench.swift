import ArgumentParser
import Foundation
import RobustTraining

/// Times the streamed training input pipeline: images per second of RandomResizedCrop + flip from a JPEG folder.
struct DataBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench-data",
    abstract: "Time the streamed training transform (decode, RandomResizedCrop + flip, float batches) on a JPEG folder.",
    discussion: """
      Reads ROOT/train/<class>/*.jpg (the ImageFolder layout; scripts/make-bench-jpegs.py makes one from the \
      shared CIFAR-10 JPEGs at ImageNet-like sizes) with --threads decode threads, shuffled, in batches of \
      --batch-size, as `agr train --dataset imagenet` reads it. Each epoch is timed from its start (threads \
      starting included) to its last batch. The peer, on the same files and cores: \
      scripts/bench-data-torchvision.py ROOT --workers N.
      """)

  @Argument(help: "A folder holding train/<class>/*.jpg.") var root: String
  @Option(parsing: .unconditional, help: "Decode threads.") var threads: Int = StreamingBatchLoader.defaultThreads
  @Option(parsing: .unconditional, help: "Images per batch.") var batchSize: Int = 256
  @Option(parsing: .unconditional, help: "Epochs (passes over the folder), each timed.") var epochs: Int = 2
  @Option(parsing: .unconditional, help: "Side of the crops.") var size: Int = 224
  @Option(help: "Where the batches go: cpu, or cuda[:N] (pinned host memory and a copy on a side stream, as training reads them; each epoch's time then includes the copies).")
  var device: String = "cpu"
  @Flag(help: "Print each epoch's pixel checksum (the sum of its batches' values as they landed on the device, copied back and summed on the CPU; the copies back are timed too): equal on every device and thread count.")
  var checksum = false
  @Flag(help: "Where the time goes: seconds summed over the threads reading, planning, decoding and resampling, and the reader's making batch tensors.")
  var profile = false

  func run() throws { try reportingErrors(DataBench.self, execute) }

  private func execute() throws {
    guard epochs > 0, batchSize > 0, size >= 8 else {
      throw ValidationError("--epochs and --batch-size must be positive, --size at least 8")
    }
    let target = try prepareDevice(device)
    let images = try FolderImageList.load(from: URL(fileURLWithPath: root), split: .train)
    var loader: StreamingBatchLoader
    do {
      loader = try StreamingBatchLoader(images, transform: .randomResizedCrop(size: size), batchSize: batchSize,
                                        shuffle: true, threads: threads, device: target)
    } catch { throw ValidationError("\(error)") }
    if profile { loader.profile = DecodeProfile() }
    for epoch in 0..<epochs {
      let start = Date()
      var count = 0
      var batches = try loader.epochBatches(epoch: epoch)
      var sums: [Tensor] = []
      while let batch = try batches.next() {
        count += batch.labels.shape[0]
        // summed on the CPU, in one order whatever the device: equal sums mean equal pixels arrived
        if checksum { sums.append(try batch.images.to(.cpu).to(.float64).sum()) }
      }
      if case .cuda(let index) = target { try CUDA.synchronize(index) }
      let seconds = Date().timeIntervalSince(start)
      let total = checksum ? String(format: ", checksum %.6f", try Tensor.stack(sums).sum().item()) : ""
      print(String(format: "agr: epoch %d: %d images in %.2f s: %.0f images/s (%d threads, %@)%@", epoch + 1, count, seconds,
                   Double(count) / seconds, threads, "\(target)", total))
    }
    if let measured = loader.profile {
      let parts = DecodeProfile.Part.allCases.map { "\($0.rawValue) " + String(format: "%.2f s", measured.total($0)) }
      print("agr: profile over \(epochs) epoch\(epochs == 1 ? "" : "s"): " + parts.joined(separator: ", "))
    }
  }
}
