import Foundation
import Testing
import Torch

@testable import RobustTraining

/// JPEG folders written by the tests: smooth colour gradients with a little texture, of various sizes.
enum StreamingFolder {
  static func image(width: Int, height: Int, seed: Int) -> [UInt8] {
    var pixels = [UInt8](repeating: 0, count: width * height * 3)
    for y in 0..<height {
      for x in 0..<width {
        let i = 3 * (y * width + x)
        pixels[i] = UInt8((x * 255 / max(width - 1, 1) + seed * 37) % 256)
        pixels[i + 1] = UInt8((y * 255 / max(height - 1, 1) + seed * 11) % 256)
        pixels[i + 2] = UInt8(((x / 7 + y / 5) % 2) * 120 + (x * y + seed) % 50)
      }
    }
    return pixels
  }

  static func write(width: Int, height: Int, seed: Int, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try JPEG.encode(image(width: width, height: height, seed: seed), width: width, height: height, channels: 3, quality: 90)
      .write(to: url)
  }

  /// `train/<class>/` with `perClass` images of sizes around 300 x 240 (some smaller than the crop), and
  /// `val/<class>/` with two each.
  static func make(in folder: TemporaryFolder, classes: [String] = ["ant", "bee", "cat"], perClass: Int = 4) throws {
    let sizes = [(300, 240), (180, 260), (96, 64), (410, 355), (256, 256), (333, 201)]
    for (c, name) in classes.enumerated() {
      for i in 0..<perClass {
        let (w, h) = sizes[(c + i) % sizes.count]
        try write(width: w, height: h, seed: c * 10 + i, to: folder.file("train/\(name)/\(i).JPEG"))
      }
      for i in 0..<2 { try write(width: 280, height: 230, seed: 100 + c * 10 + i, to: folder.file("val/\(name)/v\(i).jpg")) }
    }
  }

  /// A batch's images back as bytes.
  static func bytes(_ images: Tensor) throws -> [UInt8] {
    try images.toArray(Float.self).map { UInt8(($0 * 255).rounded()) }
  }

  static func all(_ loader: StreamingBatchLoader, epoch: Int, from start: Int = 0) throws -> [(pixels: [UInt8], labels: [Int64], indices: [Int64])] {
    var batches = try loader.epochBatches(epoch: epoch, startingAt: start)
    var out = [(pixels: [UInt8], labels: [Int64], indices: [Int64])]()
    while let batch = try batches.next() {
      out.append((try bytes(batch.images), try batch.labels.toArray(Int64.self), try batch.indices.toArray(Int64.self)))
    }
    return out
  }
}

@Suite struct StreamingLoaderTests {
  /// The reference: the whole image decoded at the plan's scale, then resampled by the plain definition (for
  /// each output pixel, the filter's weighted sum over the columns of weighted sums over the rows, in the
  /// order the loader sums them), mirrored when flipped.
  private func reference(_ data: Data, plan: DecodePlan, size: Int) throws -> [UInt8] {
    let image = try JPEG.decode(data, scale: plan.scale)
    var out = [UInt8](repeating: 0, count: 3 * size * size)
    for oy in 0..<size {
      for ox in 0..<size {
        for c in 0..<3 {
          var sum: Float = 0
          for kx in 0..<plan.columns.counts[ox] {
            let x = plan.columns.starts[ox] + kx
            var column: Float = 0
            for ky in 0..<plan.rows.counts[oy] {
              let y = plan.rows.starts[oy] + ky
              column += plan.rows.weights[oy * plan.rows.taps + ky] * Float(image.rgb[3 * (y * image.width + x) + c])
            }
            sum += plan.columns.weights[ox * plan.columns.taps + kx] * column
          }
          let column = plan.flip ? size - 1 - ox : ox
          out[c * size * size + oy * size + column] = UInt8(min(255, max(0, (sum + 0.5).rounded(.down))))
        }
      }
    }
    return out
  }

  @Test func aWindowDecodesAsTheSamePixelsOfTheWholeScaledImage() throws {
    let data = try JPEG.encode(StreamingFolder.image(width: 301, height: 237, seed: 3), width: 301, height: 237, channels: 3,
                               quality: 90)
    for scale in [8, 5, 4, 2] {
      let whole = try JPEG.decode(data, scale: scale)
      let (w, h) = JPEG.scaledSize(width: 301, height: 237, scale: scale)
      #expect((whole.width, whole.height) == (w, h))
      for (left, top, columns, rows) in [(0, 0, w, h), (w / 3, h / 4, w / 2, h / 3), (w - 9, h - 7, 9, 7), (17, 0, 5, h), (w / 3 + 1, h / 2 + 3, 31, 17), (33, 9, w - 40, 3)] {
        var window = [UInt8](repeating: 0, count: columns * rows * 3)
        try data.withUnsafeBytes { bytes in
          try window.withUnsafeMutableBufferPointer {
            try JPEG.decodeRegion(bytes, scale: scale, left: left, top: top, columns: columns, rows: rows, into: $0.baseAddress!)
          }
        }
        var expected = [UInt8]()
        for y in top..<(top + rows) {
          let start: Int = 3 * (y * w + left)
          expected += whole.rgb[start..<(start + 3 * columns)]
        }
        #expect(window == expected, "scale \(scale)/8, window \(columns)x\(rows) at (\(left), \(top))")
      }
    }
  }

  @Test func batchesEqualAReferenceDecodeOfTheSameCrops() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder)
    let list = try FolderImageList.load(from: folder.url, split: .train)
    #expect(list.classes == ["ant", "bee", "cat"] && list.count == 12)
    for transform in [FolderTransform.randomResizedCrop(size: 64), .centreCrop(size: 48, resize: 56)] {
      let loader = try StreamingBatchLoader(list, transform: transform, batchSize: 5, shuffle: true, seed: 7, threads: 2)
      let order = loader.order(epoch: 1)
      let batches = try StreamingFolder.all(loader, epoch: 1)
      #expect(batches.map(\.labels.count) == [5, 5, 2])
      let size = transform.outputSize
      var scales = Set<Int>()
      for (b, batch) in batches.enumerated() {
        for row in 0..<batch.labels.count {
          let position = b * 5 + row
          let file = order[position]
          #expect(batch.indices[row] == Int64(file) && batch.labels[row] == Int64(list.labels[file]))
          let data = try Data(contentsOf: URL(fileURLWithPath: list.paths[file]))
          let image = try JPEG.decode(data)
          let plan = transform.plan(width: image.width, height: image.height, seed: 7, epoch: 1, position: position)
          scales.insert(plan.scale)
          let got = Array(batch.pixels[(row * 3 * size * size)..<((row + 1) * 3 * size * size)])
          #expect(got == (try reference(data, plan: plan, size: size)), "\(list.paths[file]) at position \(position)")
        }
      }
      // DCT scaling was used where the crop allowed it (not every sample decoded whole)
      #expect(scales.contains { $0 < 8 }, "scales \(scales)")
    }
  }

  @Test func theSameBatchesForAnyThreadCountAndAfterResume() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder, perClass: 5)
    let list = try FolderImageList.load(from: folder.url, split: .train)
    func loader(threads: Int, depth: Int) throws -> StreamingBatchLoader {
      try StreamingBatchLoader(list, transform: .randomResizedCrop(size: 40), batchSize: 4, shuffle: true, seed: 3,
                               threads: threads, queueDepth: depth)
    }
    let one = try StreamingFolder.all(try loader(threads: 1, depth: 1), epoch: 2)
    let three = try StreamingFolder.all(try loader(threads: 3, depth: 2), epoch: 2)
    #expect(one.count == 4)
    #expect(one.map(\.pixels) == three.map(\.pixels) && one.map(\.labels) == three.map(\.labels))
    let resumed = try StreamingFolder.all(try loader(threads: 3, depth: 3), epoch: 2, from: 2)
    #expect(resumed.map(\.pixels) == one[2...].map(\.pixels) && resumed.map(\.indices) == one[2...].map(\.indices))
    // another epoch: another order and other crops
    let next = try StreamingFolder.all(try loader(threads: 2, depth: 2), epoch: 3)
    #expect(next.map(\.indices) != one.map(\.indices))
  }

  @Test func eachRankDecodesItsRowsOfTheGlobalBatch() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder, perClass: 3)
    let list = try FolderImageList.load(from: folder.url, split: .train)
    func loader(rank: Int, of ranks: Int) throws -> StreamingBatchLoader {
      try StreamingBatchLoader(list, transform: .randomResizedCrop(size: 32), batchSize: 5, shuffle: true, seed: 9,
                               threads: 2, rank: rank, worldSize: ranks)
    }
    let whole = try StreamingFolder.all(try loader(rank: 0, of: 1), epoch: 0)
    let parts = try (0..<2).map { try StreamingFolder.all(try loader(rank: $0, of: 2), epoch: 0) }
    var shards = try loader(rank: 1, of: 2).epochBatches(epoch: 0)
    let first = try #require(try shards.next())
    #expect(first.shard == BatchShard(rank: 1, worldSize: 2, total: 5) && first.labels.shape == [3])
    for b in whole.indices {
      #expect(parts[0][b].pixels + parts[1][b].pixels == whole[b].pixels)
      #expect(parts[0][b].indices + parts[1][b].indices == whole[b].indices)
    }
  }

  @Test func theCentreCropKeepsTheMiddleOfTheShorterSide() {
    var random = SampleRandom(seed: 0, epoch: 0, position: 0)
    let (box, flip) = FolderTransform.evaluation.draw(width: 512, height: 384, random: &random)
    #expect(box == CropBox(x: 88, y: 24, width: 336, height: 336) && !flip)
    // the plan decodes at the smallest SIMD scale keeping 224 pixels: 336 * 4/8 < 224, so 8/8 ...
    #expect(DecodePlan(width: 512, height: 384, box: box, flip: false, size: 224).scale == 8)
    // ... and a larger image's box of 672 at 4/8 (336 >= 224 > 672 * 2/8)
    let (large, _) = FolderTransform.evaluation.draw(width: 1024, height: 768, random: &random)
    #expect(large == CropBox(x: 176, y: 48, width: 672, height: 672))
    #expect(DecodePlan(width: 1024, height: 768, box: large, flip: false, size: 224).scale == 4)
  }

  @Test func randomCropsLieInTheImageWithTorchvisionsAreaAndAspect() {
    var flips = 0
    for position in 0..<400 {
      var random = SampleRandom(seed: 1, epoch: 0, position: position)
      let (box, flip) = FolderTransform.training.draw(width: 400, height: 350, random: &random)
      flips += flip ? 1 : 0
      #expect(box.x >= 0 && box.y >= 0 && box.x + box.width <= 400 && box.y + box.height <= 350)
      let area = box.width * box.height / (400 * 350)
      #expect(area > 0.07 && area <= 1.0)
    }
    #expect((140...260).contains(flips))
  }

  @Test func anUnreadableImageStopsTheEpochNamingIt() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder, perClass: 4)
    try Data().write(to: folder.file("train/bee/0.JPEG"))
    try Data("not a jpeg at all".utf8).write(to: folder.file("train/cat/2.JPEG"))
    let list = try FolderImageList.load(from: folder.url, split: .train)
    for threads in [1, 3] {
      let loader = try StreamingBatchLoader(list, transform: .randomResizedCrop(size: 32), batchSize: 4, shuffle: false,
                                            threads: threads)
      var batches = try loader.epochBatches(epoch: 0)
      var read = 0
      do {
        while try batches.next() != nil { read += 1 }
        Issue.record("the epoch ended without an error")
      } catch let error as DatasetError {
        // unshuffled, interleaved by class: position 1 is bee/0 (empty), in the first batch
        #expect(read == 0)
        #expect("\(error)".contains(folder.file("train/bee/0.JPEG").path) && "\(error)".contains("empty file"), "\(error)")
      }
    }
    let later = try StreamingBatchLoader(list.prefix(12), transform: .randomResizedCrop(size: 32), batchSize: 4,
                                         shuffle: false, threads: 2)
    var batches = try later.epochBatches(epoch: 0, startingAt: 1)
    #expect(throws: DatasetError.self) { while try batches.next() != nil {} }
  }

  @Test func badFoldersAndLabelFilesAreRefusedNamingTheFile() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder, perClass: 1)
    try FileManager.default.createDirectory(at: folder.file("train/dog"), withIntermediateDirectories: true)
    #expect { try FolderImageList.load(from: folder.url, split: .train) } throws: { "\($0)".contains(folder.file("train/dog").path) }

    let flat = try TemporaryFolder()
    try StreamingFolder.make(in: flat, perClass: 1)
    try FileManager.default.removeItem(at: flat.file("val"))
    for name in ["ILSVRC2012_val_00000001", "ILSVRC2012_val_00000002"] {
      try StreamingFolder.write(width: 64, height: 48, seed: 1, to: flat.file("val/\(name).JPEG"))
    }
    let labels = flat.file("LOC_val_solution.csv")
    try "ImageId,PredictionString\nILSVRC2012_val_00000002,cat 1 2 3 4\nILSVRC2012_val_00000001,ant 5 6 7 8\n"
      .write(to: labels, atomically: true, encoding: .utf8)
    let val = try FolderImageList.load(from: flat.url, split: .test)
    #expect(val.labels == [0, 2] && val.paths.map { URL(fileURLWithPath: $0).lastPathComponent } == [
      "ILSVRC2012_val_00000001.JPEG", "ILSVRC2012_val_00000002.JPEG",
    ])
    for (text, expected) in [
      ("ImageId,PredictionString\nILSVRC2012_val_00000001,ant 1\n", "ILSVRC2012_val_00000002.JPEG"),  // an image unlabelled
      ("ILSVRC2012_val_00000001,ant\nILSVRC2012_val_00000002,emu 1\n", "class emu"),
      ("ILSVRC2012_val_00000001,ant\nILSVRC2012_val_00000002,ant\nILSVRC2012_val_00000003,bee\n", "not in the folder"),
    ] {
      try text.write(to: labels, atomically: true, encoding: .utf8)
      #expect { try FolderImageList.load(from: flat.url, split: .test) } throws: {
        "\($0)".contains(labels.path) && "\($0)".contains(expected)
      }
    }
  }
}

@Suite struct DecodeProfileTests {
  @Test func theProfileCountsTheThreadsTime() throws {
    let folder = try TemporaryFolder()
    try StreamingFolder.make(in: folder, perClass: 2)
    var loader = try StreamingBatchLoader(try FolderImageList.load(from: folder.url, split: .train),
                                          transform: .randomResizedCrop(size: 32), batchSize: 4, shuffle: true, threads: 2)
    let profile = DecodeProfile()
    loader.profile = profile
    _ = try StreamingFolder.all(loader, epoch: 0)
    #expect(profile.total(.decode) > 0 && profile.total(.resample) > 0 && profile.total(.batch) > 0,
            "\(DecodeProfile.Part.allCases.map { profile.total($0) })")
  }
}
