import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `.npy` arrays and `.npz` archives written byte by byte, as NumPy writes them (`np.save`, `np.savez`: ZIP
/// members stored, with ZIP64 sizes in their local headers), for the extra-data tests.
enum NPZFixture {
  static func le(_ value: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

  /// One `.npy` array (format 1.0, the header padded to 64 bytes as NumPy pads it).
  static func npy(descr: String, shape: [Int], body: [UInt8], fortran: Bool = false) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    return NPYArray.magic + [1, 0] + le(header.utf8.count, 2) + Array(header.utf8) + body
  }

  /// uint8 images (n, h, w, c) whose every byte is `(row * 7 + k) % 251`, so that a row is recognisable.
  static func images(_ n: Int, _ h: Int, _ w: Int, _ c: Int) -> [UInt8] {
    let size = h * w * c
    return (0..<n * size).map { UInt8(((($0 / size) * 7) + $0 % size) % 251) }
  }

  static func int64s(_ values: [Int]) -> [UInt8] { values.flatMap { le($0, 8) } }

  /// A ZIP archive of `members`, each with `method` (0: stored) and its bytes as given; with `zip64Directory`
  /// the central directory's sizes and offsets are ZIP64 too (as for archives past 4 GB), with the ZIP64 end records.
  static func zip(_ members: [(String, [UInt8])], method: Int = 0, zip64Directory: Bool = false) -> [UInt8] {
    var out = [UInt8]()
    var central = [UInt8]()
    for (name, bytes) in members {
      let offset = out.count
      let nameBytes = Array(name.utf8)
      out += le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(method, 2) + le(0, 2) + le(0x21, 2) + le(0, 4)
        + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(nameBytes.count, 2) + le(20, 2) + nameBytes
        + le(1, 2) + le(16, 2) + le(bytes.count, 8) + le(bytes.count, 8) + bytes
      let extra = zip64Directory ? le(1, 2) + le(24, 2) + le(bytes.count, 8) + le(bytes.count, 8) + le(offset, 8) : []
      let (size, place) = zip64Directory ? (0xFFFF_FFFF, 0xFFFF_FFFF) : (bytes.count, offset)
      central += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(method, 2) + le(0, 2) + le(0x21, 2)
        + le(0, 4) + le(size, 4) + le(size, 4) + le(nameBytes.count, 2) + le(extra.count, 2) + le(0, 2) + le(0, 2)
        + le(0, 2) + le(0, 4) + le(place, 4) + nameBytes + extra
    }
    let directoryOffset = out.count
    out += central
    if zip64Directory {
      let record = out.count
      out += le(0x0606_4B50, 4) + le(44, 8) + le(45, 2) + le(45, 2) + le(0, 4) + le(0, 4) + le(members.count, 8)
        + le(members.count, 8) + le(central.count, 8) + le(directoryOffset, 8)
      out += le(0x0706_4B50, 4) + le(0, 4) + le(record, 8) + le(1, 4)
      out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(0xFFFF, 2) + le(0xFFFF, 2) + le(0xFFFF_FFFF, 4)
        + le(0xFFFF_FFFF, 4) + le(0, 2)
    } else {
      out += le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
        + le(central.count, 4) + le(directoryOffset, 4) + le(0, 2)
    }
    return out
  }

  /// An `.npz` of `n` images (h, w, c) and the labels given (int64), written to `folder` as `name`.
  @discardableResult
  static func write(_ folder: TemporaryFolder, _ name: String = "extra.npz", n: Int, h: Int, w: Int, c: Int,
                    labels: [Int], zip64Directory: Bool = false) throws -> URL
  {
    try folder.write(
      zip([("image.npy", npy(descr: "|u1", shape: [n, h, w, c], body: images(n, h, w, c))),
           ("label.npy", npy(descr: "<i8", shape: [labels.count], body: int64s(labels)))], zip64Directory: zip64Directory),
      to: name)
  }
}

/// Reading extra data (`ExtraImages`): the `.npz` and folder forms, in place, and every bad input refused with
/// a message naming the file.
@Suite struct ExtraDataFileTests {
  /// Images (N, C, H, W) of the pattern `NPZFixture.images` writes (N, H, W, C), for comparison.
  func expectedPixels(rows: [Int], h: Int, w: Int, c: Int) throws -> [UInt8] {
    let all = NPZFixture.images(rows.max().map { $0 + 1 } ?? 0, h, w, c)
    let size = h * w * c
    return try Tensor(rows.flatMap { all[$0 * size..<($0 + 1) * size] }, shape: [rows.count, h, w, c])
      .permuted([0, 3, 1, 2]).contiguous().toArray(UInt8.self)
  }

  @Test(arguments: [false, true]) func readsAStoredNPZInPlace(zip64Directory: Bool) throws {
    let folder = try TemporaryFolder()
    let labels = [3, 1, 4, 1, 5, 9, 2]
    let url = try NPZFixture.write(folder, n: 7, h: 5, w: 4, c: 3, labels: labels, zip64Directory: zip64Directory)
    let extra = try ExtraImages(path: url.path, imageShape: [3, 5, 4], classCount: 10)
    #expect(extra.count == 7)
    let rows = [6, 0, 2, 2]
    let pixels = try extra.pixels(rows: rows)
    #expect(pixels.shape == [4, 3, 5, 4] && pixels.dtype == .uint8)
    #expect(try pixels.toArray(UInt8.self) == expectedPixels(rows: rows, h: 5, w: 4, c: 3))
    #expect(try extra.labels(rows: rows).toArray(Int64.self) == rows.map { Int64(labels[$0]) })
  }

  /// The file is mapped, not copied: after reading 64 rows of a 30 MB archive, the resident part of its mapping
  /// (`Rss` of the file's entries in /proc/self/smaps) is a fraction of it, and no other copy was made
  /// (the process's anonymous memory grows by less than the file's size).
  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self/smaps")))
  func rowsAreReadInPlaceNotCopied() throws {
    func kilobytes(_ line: Substring) -> Int { Int(line.split(separator: " ").dropFirst().first { Int($0) != nil } ?? "") ?? 0 }
    /// The resident kilobytes of the mappings of `path`, and the process's anonymous resident kilobytes.
    func resident(_ path: String) throws -> (mapping: Int, anonymous: Int) {
      var mapping = 0
      var inFile = false
      // read to its end (a /proc file's size is 0, and Foundation's whole-file read can stop early)
      let smaps = try FileHandle(forReadingFrom: URL(fileURLWithPath: "/proc/self/smaps")).readToEnd() ?? Data()
      for line in String(decoding: smaps, as: UTF8.self).split(separator: "\n") {
        if let first = line.first, first.isHexDigit, line.contains("-") {
          inFile = line.hasSuffix(path)
        } else if inFile, line.hasPrefix("Rss:") {
          mapping += kilobytes(line)
        }
      }
      let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
      return (mapping, kilobytes(status.first { $0.hasPrefix("RssAnon:") } ?? ""))
    }
    let folder = try TemporaryFolder()
    let count = 10_000
    let url = try folder.write(
      NPZFixture.zip([("image.npy", NPZFixture.npy(descr: "|u1", shape: [count, 32, 32, 3], body: [UInt8](repeating: 9, count: count * 3072))),
                      ("label.npy", NPZFixture.npy(descr: "<i8", shape: [count], body: NPZFixture.int64s((0..<count).map { $0 % 10 })))]),
      to: "extra.npz")
    let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as! Int
    let before = try resident(url.path)
    let extra = try ExtraImages(path: url.path, imageShape: [3, 32, 32], classCount: 10)
    // 64 neighbouring rows: the kernel maps the pages around each one touched (whole page-cache folios, up to
    // 2 MB here: the header, these rows and the labels at the end made 4.3 MB resident), so rows spread over a
    // file this small would make most of it resident without any copy
    let rows = (0..<64).map { 5_000 + ($0 * 37) % 64 }
    #expect(try extra.pixels(rows: rows).shape == [64, 3, 32, 32])
    let after = try resident(url.path)
    #expect(before.mapping == 0 && after.mapping > 0, "the mapping of \(url.path) was not found in smaps")
    #expect(after.mapping * 1024 < size / 4, "reading 64 rows made \(after.mapping) KB of the \(size)-byte file resident")
    #expect((after.anonymous - before.anonymous) * 1024 < size / 2, "anonymous memory grew by \(after.anonymous - before.anonymous) KB")
    withExtendedLifetime(extra) {}
  }

  /// The archive unpacked (`unzip x.npz -d x/`): a folder holding image.npy and label.npy; labels of any integer type.
  @Test func readsAFolderOfTwoNPYFiles() throws {
    let folder = try TemporaryFolder()
    try folder.write(NPZFixture.npy(descr: "|u1", shape: [4, 2, 2, 1], body: NPZFixture.images(4, 2, 2, 1)), to: "image.npy")
    try folder.write(NPZFixture.npy(descr: "<i2", shape: [4], body: [1, 0, 0, 0, 1, 0, 0, 0]), to: "label.npy")
    let extra = try ExtraImages(path: folder.url.path, imageShape: [1, 2, 2], classCount: 2)
    #expect(try extra.labels(rows: [0, 1, 2, 3]).toArray(Int64.self) == [1, 0, 1, 0])
    #expect(try extra.pixels(rows: [3]).toArray(UInt8.self) == expectedPixels(rows: [3], h: 2, w: 2, c: 1))
  }

  func refused(_ bytes: [UInt8], shape: [Int] = [3, 5, 4], classCount: Int = 10, mentioning texts: [String]) throws {
    let folder = try TemporaryFolder()
    let url = try folder.write(bytes, to: "bad.npz")
    expectError(mentioning: [url.path] + texts) { _ = try ExtraImages(path: url.path, imageShape: shape, classCount: classCount) }
  }

  let image = NPZFixture.npy(descr: "|u1", shape: [3, 5, 4, 3], body: NPZFixture.images(3, 5, 4, 3))
  let label = NPZFixture.npy(descr: "<i8", shape: [3], body: NPZFixture.int64s([0, 1, 2]))

  @Test func anArchiveWithoutImageOrLabelIsRefused() throws {
    try refused(NPZFixture.zip([("label.npy", label)]), mentioning: ["no 'image' array", "it holds 'label'"])
    try refused(NPZFixture.zip([("image.npy", image), ("labels.npy", label)]), mentioning: ["no 'label' array", "'labels'"])
  }

  @Test func mismatchedLengthsAreRefused() throws {
    let four = NPZFixture.npy(descr: "<i8", shape: [4], body: NPZFixture.int64s([0, 1, 2, 3]))
    try refused(NPZFixture.zip([("image.npy", image), ("label.npy", four)]), mentioning: ["3 images but 4 labels"])
  }

  @Test func wrongDtypesAreRefused() throws {
    let floats = NPZFixture.npy(descr: "<f4", shape: [3, 5, 4, 3], body: [UInt8](repeating: 0, count: 3 * 60 * 4))
    try refused(NPZFixture.zip([("image.npy", floats), ("label.npy", label)]), mentioning: ["member 'image.npy'", "'<f4'", "uint8"])
    let floatLabels = NPZFixture.npy(descr: "<f8", shape: [3], body: [UInt8](repeating: 0, count: 24))
    try refused(NPZFixture.zip([("image.npy", image), ("label.npy", floatLabels)]), mentioning: ["member 'label.npy'", "'<f8'", "integer"])
  }

  @Test func aShapeThatDoesNotFitTheDatasetIsRefused() throws {
    let archive = NPZFixture.zip([("image.npy", image), ("label.npy", label)])
    try refused(archive, shape: [3, 32, 32], mentioning: ["5 x 4 x 3", "the dataset's are 32 x 32 x 3"])
    try refused(archive, shape: [1, 5, 4], mentioning: ["5 x 4 x 3", "the dataset's are 5 x 4 x 1"])
    let flat = NPZFixture.npy(descr: "|u1", shape: [3, 60], body: NPZFixture.images(3, 5, 4, 3))
    try refused(NPZFixture.zip([("image.npy", flat), ("label.npy", label)]), mentioning: ["shape [3, 60]", "(N, H, W, C)"])
    let fortran = NPZFixture.npy(descr: "|u1", shape: [3, 5, 4, 3], body: NPZFixture.images(3, 5, 4, 3), fortran: true)
    try refused(NPZFixture.zip([("image.npy", fortran), ("label.npy", label)]), mentioning: ["Fortran"])
  }

  @Test func truncationIsRefused() throws {
    // a member whose array header promises more bytes than the member holds
    let short = Array(image.dropLast(10))
    try refused(NPZFixture.zip([("image.npy", short), ("label.npy", label)]), mentioning: ["member 'image.npy'", "truncated"])
    // a file cut short: its ZIP directory is gone
    let whole = NPZFixture.zip([("image.npy", image), ("label.npy", label)])
    try refused(Array(whole.prefix(whole.count / 2)), mentioning: ["truncated"])
    // not an archive at all
    try refused(Array("just text, not a ZIP archive".utf8), mentioning: ["not a ZIP (.npz) archive"])
  }

  @Test func labelsOutOfRangeAreRefused() throws {
    let labels = NPZFixture.npy(descr: "<i8", shape: [3], body: NPZFixture.int64s([0, 10, 2]))
    try refused(NPZFixture.zip([("image.npy", image), ("label.npy", labels)]),
                mentioning: ["member 'label.npy'", "label 10 of record 1 is outside 0..<10"])
    let negative = NPZFixture.npy(descr: "<i8", shape: [3], body: NPZFixture.int64s([0, -1, 2]))
    try refused(NPZFixture.zip([("image.npy", image), ("label.npy", negative)]), mentioning: ["label -1 of record 1"])
  }

  /// np.savez_compressed's members (deflated) are refused with the command that rewrites the file stored.
  @Test func aCompressedArchiveIsRefusedWithTheCommandThatConvertsIt() throws {
    let folder = try TemporaryFolder()
    let url = try folder.write(NPZFixture.zip([("image.npy", image), ("label.npy", label)], method: 8), to: "gen.npz")
    expectError(mentioning: [url.path, "compressed (np.savez_compressed)", "python3 -c", "zipfile.ZIP_STORED",
                             folder.file("gen-uncompressed.npz").path]) {
      _ = try ExtraImages(path: url.path, imageShape: [3, 5, 4], classCount: 10)
    }
  }

  @Test func aMissingFileOrASingleNPYIsRefused() throws {
    let folder = try TemporaryFolder()
    expectError(mentioning: [folder.file("none.npz").path]) {
      _ = try ExtraImages(path: folder.file("none.npz").path, imageShape: [3, 5, 4], classCount: 10)
    }
    let single = try folder.write(image, to: "image.npy")
    expectError(mentioning: [single.path, "a single .npy array"]) {
      _ = try ExtraImages(path: single.path, imageShape: [3, 5, 4], classCount: 10)
    }
    // a device, an empty file
    expectError(mentioning: ["/dev/zero", "not a regular file"]) {
      _ = try ExtraImages(path: "/dev/zero", imageShape: [3, 5, 4], classCount: 10)
    }
    let empty = try folder.write([], to: "empty.npz")
    expectError(mentioning: [empty.path, "empty"]) { _ = try ExtraImages(path: empty.path, imageShape: [3, 5, 4], classCount: 10) }
    // a folder without label.npy
    expectError(mentioning: [folder.file("label.npy").path]) {
      _ = try ExtraImages(path: folder.url.path, imageShape: [3, 5, 4], classCount: 10)
    }
  }
}
