import CZlib
import Foundation
import Testing

@testable import RobustTraining

/// MAT-files (level 5) written byte by byte, as MATLAB lays them out: a 128-byte header, then one element per
/// variable, plain (`miMATRIX`) or zlib-compressed (`miCOMPRESSED`); either byte order.
struct MATWriter {
  var bigEndian = false
  /// Numbers stored as `miDOUBLE`, or (as MATLAB does for integral values) in the smallest type that holds them.
  var narrowNumbers = false

  indirect enum Array {
    case numbers([Int], [Double])
    case text(String)
    case texts([String])  // a char matrix, one row per string (equal lengths)
    case structs([String], [[Array]])  // field names; each element's values (an N x 1 struct array)
    case cells([Array])
  }

  func word32(_ v: UInt32) -> [UInt8] {
    let w = bigEndian ? v.bigEndian : v.littleEndian
    return withUnsafeBytes(of: w) { Swift.Array($0) }
  }
  func word16(_ v: UInt16) -> [UInt8] {
    let w = bigEndian ? v.bigEndian : v.littleEndian
    return withUnsafeBytes(of: w) { Swift.Array($0) }
  }
  func word64(_ v: UInt64) -> [UInt8] {
    let w = bigEndian ? v.bigEndian : v.littleEndian
    return withUnsafeBytes(of: w) { Swift.Array($0) }
  }

  func header() -> [UInt8] {
    var text = Swift.Array("MATLAB 5.0 MAT-file, Platform: GLNXA64, Created by: agr tests".utf8)
    text += [UInt8](repeating: 0x20, count: 116 - text.count)
    return text + [UInt8](repeating: 0, count: 8) + word16(0x0100) + (bigEndian ? Swift.Array("MI".utf8) : Swift.Array("IM".utf8))
  }

  /// A data element: the small form for up to 4 bytes (when allowed), else a tag and the data padded to 8.
  func element(_ type: UInt32, _ payload: [UInt8], small: Bool = true) -> [UInt8] {
    if small && payload.count <= 4 && !payload.isEmpty {
      return word32(UInt32(payload.count) << 16 | type) + payload + [UInt8](repeating: 0, count: 4 - payload.count)
    }
    return word32(type) + word32(UInt32(payload.count)) + payload
      + [UInt8](repeating: 0, count: (8 - payload.count % 8) % 8)
  }

  func matrix(_ name: String, _ array: Array) -> [UInt8] {
    func head(_ classNumber: UInt32, _ dimensions: [Int]) -> [UInt8] {
      element(6, word32(classNumber) + word32(0), small: false)
        + element(5, dimensions.flatMap { word32(UInt32($0)) }, small: false) + element(1, Swift.Array(name.utf8))
    }
    var body: [UInt8]
    switch array {
    case .numbers(let dimensions, let values):
      body = head(6, dimensions)
      if narrowNumbers, values.allSatisfy({ $0 >= 0 && $0 <= 65535 && $0 == $0.rounded() }) {
        body += values.allSatisfy { $0 <= 255 }
          ? element(2, values.map { UInt8($0) }) : element(4, values.flatMap { word16(UInt16($0)) })
      } else {
        body += element(9, values.flatMap { word64($0.bitPattern) })
      }
    case .text(let string):
      let units = Swift.Array(string.utf16)
      body = head(4, [1, units.count]) + element(4, units.flatMap { word16($0) })
    case .texts(let rows):
      let columns = rows.first?.utf16.count ?? 0
      let grid = rows.map { Swift.Array($0.utf16) }
      var units = [UInt16]()
      for c in 0..<columns { for r in rows.indices { units.append(grid[r][c]) } }  // column-major
      body = head(4, [rows.count, columns]) + element(4, units.flatMap { word16($0) })
    case .structs(let fields, let elements):
      body = head(2, [elements.count, 1]) + element(5, word32(32))
      body += element(1, fields.flatMap { Swift.Array($0.utf8) + [UInt8](repeating: 0, count: 32 - $0.utf8.count) })
      for values in elements { for value in values { body += matrix("", value) } }
    case .cells(let elements):
      body = head(1, [elements.count, 1])
      for value in elements { body += matrix("", value) }
    }
    return element(14, body, small: false)
  }

  /// A compressed variable: the zlib stream of its whole `miMATRIX` element, not padded.
  func compressed(_ name: String, _ array: Array) -> [UInt8] {
    let plain = matrix(name, array)
    var size = compressBound(uLong(plain.count))
    var out = [UInt8](repeating: 0, count: Int(size))
    let status = compress2(&out, &size, plain, uLong(plain.count), 6)
    precondition(status == Z_OK)
    return word32(15) + word32(UInt32(size)) + out.prefix(Int(size))
  }

  func file(_ variables: [(String, Array)], compressed: Bool) -> Data {
    Data(header() + variables.flatMap { compressed ? self.compressed($0.0, $0.1) : matrix($0.0, $0.1) })
  }
}

/// A devkit's `synsets`: three leaves whose ids are not in WNID order, and two inner synsets (ids 4, 5).
enum TinyDevkit {
  static let leaves = [(1, "n03"), (2, "n01"), (3, "n02")]

  static func valName(_ n: Int) -> String {
    let digits = String(n)
    return "ILSVRC2012_val_" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits + ".JPEG"
  }

  static func synsets() -> MATWriter.Array {
    let fields = ["ILSVRC2012_ID", "WNID", "words", "gloss", "num_children", "children", "wordnet_height",
                  "num_train_images"]
    var rows = leaves.map { id, wnid -> [MATWriter.Array] in
      [.numbers([1, 1], [Double(id)]), .text(wnid), .text("word \(id)"), .text("a leaf"), .numbers([1, 1], [0]),
       .numbers([1, 0], []), .numbers([1, 1], [0]), .numbers([1, 1], [1300])]
    }
    rows.append([.numbers([1, 1], [4]), .text("n00"), .text("inner"), .text("two leaves"), .numbers([1, 1], [2]),
                 .numbers([1, 2], [1, 2]), .numbers([1, 1], [1]), .numbers([1, 1], [0])])
    rows.append([.numbers([1, 1], [5]), .text("n99"), .text("root"), .text("all"), .numbers([1, 1], [1]),
                 .numbers([1, 1], [4]), .numbers([1, 1], [2]), .numbers([1, 1], [0])])
    return .structs(fields, rows)
  }

  /// meta.mat with another variable before `synsets` (a char matrix and a cell array, read and passed over).
  static func meta(_ writer: MATWriter = MATWriter(), compressed: Bool) -> Data {
    writer.file([("notes", .cells([.texts(["ab", "cd"]), .numbers([1, 3], [1, 2, 3])])), ("synsets", synsets())],
                compressed: compressed)
  }

  /// `train/<n01,n02,n03>/`, a flat `val/` of `count` ILSVRC-named images and the devkit's two files.
  static func make(in folder: TemporaryFolder, groundTruth: String, count: Int = 4, compressed: Bool = false) throws {
    try StreamingFolder.make(in: folder, classes: ["n01", "n02", "n03"], perClass: 1)
    try FileManager.default.removeItem(at: folder.file("val"))
    for n in 1...count {
      try StreamingFolder.write(width: 64, height: 48, seed: n, to: folder.file("val/" + valName(n)))
    }
    let data = folder.file("ILSVRC2012_devkit_t12/data")
    try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
    try meta(compressed: compressed).write(to: data.appendingPathComponent("meta.mat"))
    try groundTruth.write(to: data.appendingPathComponent("ILSVRC2012_validation_ground_truth.txt"), atomically: true, encoding: .utf8)
  }
}

@Suite struct MATFileTests {
  @Test func readsPlainCompressedAndBigEndianFiles() throws {
    for writer in [MATWriter(), MATWriter(bigEndian: true), MATWriter(narrowNumbers: true),
                   MATWriter(bigEndian: true, narrowNumbers: true)] {
      for compressed in [false, true] {
        let variables = try MATFile.parse(TinyDevkit.meta(writer, compressed: compressed), file: "meta.mat")
        #expect(variables.map(\.name) == ["notes", "synsets"])
        #expect(variables[0].value == .cell(dimensions: [2, 1], elements: [
          .char(dimensions: [2, 2], rows: ["ab", "cd"]), .numeric(dimensions: [1, 3], values: [1, 2, 3]),
        ]))
        let synsets = variables[1].value
        #expect(synsets.field("WNID")?.compactMap(\.string) == ["n03", "n01", "n02", "n00", "n99"])
        #expect(synsets.field("num_children")?.compactMap(\.scalar) == [0, 0, 0, 2, 1])
        #expect(synsets.field("children")?[3] == .numeric(dimensions: [1, 2], values: [1, 2]))
        #expect(synsets.field("children")?[0] == .numeric(dimensions: [1, 0], values: []))
      }
    }
  }

  @Test func leafSynsetsMapIdsToWNIDs() throws {
    let folder = try TemporaryFolder()
    for compressed in [false, true] {
      let url = try folder.write([UInt8](TinyDevkit.meta(compressed: compressed)), to: "meta\(compressed).mat")
      #expect(try ILSVRCDevkit.leafWNIDs(meta: url) == ["n03", "n01", "n02"])
    }
  }

  /// Every prefix of a file, and every single-byte corruption of it, is an error naming the file or a file read
  /// with other values (or fewer variables): never a crash or a hang.
  @Test func truncatedOrCorruptFilesThrowNamingTheFile() throws {
    for compressed in [false, true] {
      let bytes = [UInt8](TinyDevkit.meta(compressed: compressed))
      for length in 0..<bytes.count {
        do {
          // a prefix that ends between two variables is a shorter file
          #expect(try MATFile.parse(Data(bytes.prefix(length)), file: "/x/meta.mat").count < 2, "\(length)")
        } catch {
          #expect(error is DatasetError && "\(error)".contains("/x/meta.mat"), "\(error)")
        }
      }
      for position in stride(from: 116, to: bytes.count, by: 1) {
        for flip: UInt8 in [0xff, 0x80, 0x01] {
          var corrupt = bytes
          corrupt[position] ^= flip
          do { _ = try MATFile.parse(Data(corrupt), file: "/x/meta.mat") } catch {
            #expect(error is DatasetError && "\(error)".contains("/x/meta.mat"), "\(error)")
          }
        }
      }
    }
  }

  /// Dimensions that claim more than the data holds are refused or read as empty, never allocated.
  @Test func hugeDimensionsAreNotAllocated() throws {
    let writer = MATWriter()
    func file(_ classNumber: UInt32, _ dimensions: [UInt32], _ data: [UInt8]) -> Data {
      let body = writer.element(6, writer.word32(classNumber) + writer.word32(0), small: false)
        + writer.element(5, dimensions.flatMap { writer.word32($0) }, small: false) + writer.element(1, Array("x".utf8)) + data
      return Data(writer.header() + writer.element(14, body, small: false))
    }
    // a char array of 2^31 - 1 rows and no columns is empty
    let empty = try MATFile.parse(file(4, [0x7fff_ffff, 0], writer.element(4, [], small: false)), file: "/x/meta.mat")
    #expect(empty.first?.value == .char(dimensions: [0x7fff_ffff, 0], rows: []))
    // a cell or struct array of 2^62 elements holding none
    for (classNumber, data) in [(UInt32(1), [UInt8]()), (2, writer.element(5, writer.word32(32)) + writer.element(1, Array("a".utf8) + [UInt8](repeating: 0, count: 31)))] {
      #expect { try MATFile.parse(file(classNumber, [0x7fff_ffff, 0x7fff_ffff], data), file: "/x/meta.mat") } throws: {
        "\($0)".contains("/x/meta.mat") && "\($0)".contains("truncated")
      }
    }
    // a double array whose dimensions claim more numbers than it holds
    #expect { try MATFile.parse(file(6, [1000, 1000], writer.element(9, writer.word64(0), small: false)), file: "/x/meta.mat") } throws: {
      "\($0)".contains("1 numbers for dimensions [1000, 1000]")
    }
  }

  /// Empty arrays cost 8 bytes in a file and far more in memory: a file of more than `maxArrays` is refused.
  @Test func aFileOfMillionsOfEmptyArraysIsRefused() throws {
    let writer = MATWriter()
    let n = MATFile.maxArrays + 1
    var body = writer.element(6, writer.word32(1) + writer.word32(0), small: false)
      + writer.element(5, writer.word32(UInt32(n)) + writer.word32(1), small: false) + writer.element(1, Array("c".utf8))
    body += [UInt8](repeating: 0, count: 8 * n).enumerated().map { i, _ in i % 8 == 0 ? 14 : 0 }
    let data = Data(writer.header() + writer.element(14, body, small: false))
    #expect { try MATFile.parse(data, file: "/x/meta.mat") } throws: {
      "\($0)".contains("/x/meta.mat") && "\($0)".contains("more than \(MATFile.maxArrays) arrays")
    }
  }

  @Test func otherFilesAreRefused() throws {
    var hdf5 = Array("MATLAB 7.3 MAT-file, Platform: GLNXA64, HDF5 schema 1.00 .".utf8)
    hdf5 += [UInt8](repeating: 0x20, count: 128 - hdf5.count)
    #expect { try MATFile.parse(Data(hdf5), file: "/x/meta.mat") } throws: { "\($0)".contains("7.3") && "\($0)".contains("/x/meta.mat") }
    #expect { try MATFile.parse(Data(repeating: 0, count: 200), file: "/x/meta.mat") } throws: { "\($0)".contains("/x/meta.mat") }
  }

  /// Opt-in (`AGR_TEST_SCIPY_PYTHON=/path/to/python` with numpy and scipy): a meta.mat written by
  /// `scipy.io.savemat`, compressed and not, reads the same; scipy reads the test writer's files as we do.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["AGR_TEST_SCIPY_PYTHON"] != nil))
  func readsFilesWrittenByScipy() throws {
    let folder = try TemporaryFolder()
    let script = """
      import sys, numpy as np, scipy.io as sio
      dt = [("ILSVRC2012_ID", "O"), ("WNID", "O"), ("words", "O"), ("num_children", "O"), ("children", "O")]
      rows = [(1, "n03", "c", 0, np.zeros((1, 0))), (2, "n01", "a", 0, np.zeros((1, 0))),
              (3, "n02", "b", 0, np.zeros((1, 0))), (4, "n00", "inner", 3, np.array([[1.0, 2.0, 3.0]]))]
      s = np.empty((len(rows), 1), dtype=dt)
      for i, r in enumerate(rows):
          s[i, 0] = tuple(np.array([[float(v)]]) if isinstance(v, int) else v for v in r)
      sio.savemat(sys.argv[1], {"synsets": s}, do_compression=False)
      sio.savemat(sys.argv[2], {"synsets": s}, do_compression=True)
      """
    let python = Process()
    python.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["AGR_TEST_SCIPY_PYTHON"]!)
    python.arguments = ["-c", script, folder.file("plain.mat").path, folder.file("zipped.mat").path]
    try python.run()
    python.waitUntilExit()
    try #require(python.terminationStatus == 0)
    for name in ["plain.mat", "zipped.mat"] {
      #expect(try ILSVRCDevkit.leafWNIDs(meta: folder.file(name)) == ["n03", "n01", "n02"])
    }

    // and scipy reads the files this test suite writes as torchvision does (`loadmat(squeeze_me=True)`)
    var ours = [String]()
    for (i, writer) in [MATWriter(), MATWriter(bigEndian: true, narrowNumbers: true)].enumerated() {
      for compressed in [false, true] {
        let url = try folder.write([UInt8](TinyDevkit.meta(writer, compressed: compressed)), to: "ours\(i)\(compressed).mat")
        ours.append(url.path)
      }
    }
    let reader = """
      import sys, scipy.io as sio
      for path in sys.argv[1:]:
          meta = sio.loadmat(path, squeeze_me=True)["synsets"]
          leaves = [m for m in meta if m[4] == 0]
          print(" ".join("%d:%s" % (int(m[0]), m[1]) for m in leaves))
      """
    let check = Process()
    let pipe = Pipe()
    check.executableURL = python.executableURL
    check.arguments = ["-c", reader] + ours
    check.standardOutput = pipe
    try check.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    check.waitUntilExit()
    try #require(check.terminationStatus == 0)
    #expect(output.split(separator: "\n").map(String.init) == Array(repeating: "1:n03 2:n01 3:n02", count: ours.count))
  }
}

@Suite struct ILSVRCDevkitTests {
  @Test func devkitLabelsFollowTheSortedTrainingFolders() throws {
    for compressed in [false, true] {
      let folder = try TemporaryFolder()
      // ids 1, 2, 3 are n03, n01, n02; the training folders sort n01, n02, n03
      try TinyDevkit.make(in: folder, groundTruth: "1\n2\n3\n1\n", compressed: compressed)
      let val = try FolderImageList.load(from: folder.url, split: .test)
      #expect(val.labels == [2, 0, 1, 2])
      #expect(val.classes == ["n01", "n02", "n03"])
      #expect(val.paths.map { URL(fileURLWithPath: $0).lastPathComponent } == (1...4).map(TinyDevkit.valName))
    }
  }

  @Test func badGroundTruthOrMetaIsRefusedNamingTheFile() throws {
    let folder = try TemporaryFolder()
    try TinyDevkit.make(in: folder, groundTruth: "1\n2\n3\n1\n")
    let data = folder.file("ILSVRC2012_devkit_t12/data")
    let truth = data.appendingPathComponent("ILSVRC2012_validation_ground_truth.txt")
    let meta = data.appendingPathComponent("meta.mat")
    for (text, expected) in [
      ("1\n2\n3\n", "3 lines for 4 JPEG images"),
      ("1\n2\n3\n1\n2\n", "5 lines for 4 JPEG images"),
      ("1\n2\n4\n1\n", "line 3: ILSVRC2012_ID 4 is not in 1...3"),
      ("1\n0\n3\n1\n", "line 2: ILSVRC2012_ID 0"),
      ("1\n2\nn01\n1\n", "line 3: expected an ILSVRC2012_ID"),
    ] {
      try text.write(to: truth, atomically: true, encoding: .utf8)
      #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: {
        "\($0)".contains(truth.path) && "\($0)".contains(expected)
      }
    }
    try "1\n2\n3\n1\n".write(to: truth, atomically: true, encoding: .utf8)

    // a leaf whose folder is missing from train/
    try FileManager.default.removeItem(at: folder.file("train/n02"))
    #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: {
      "\($0)".contains(truth.path) && "\($0)".contains("class n02 (ILSVRC2012_ID 3)")
    }
    try StreamingFolder.write(width: 64, height: 48, seed: 3, to: folder.file("train/n02/0.JPEG"))

    // an image not named by the devkit's scheme
    try FileManager.default.moveItem(at: folder.file("val/ILSVRC2012_val_00000004.JPEG"), to: folder.file("val/other.JPEG"))
    #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: { "\($0)".contains("other.JPEG") }
    try FileManager.default.moveItem(at: folder.file("val/other.JPEG"), to: folder.file("val/ILSVRC2012_val_00000004.JPEG"))
    #expect(try FolderImageList.load(from: folder.url, split: .test).labels == [2, 0, 1, 2])

    // meta.mat without synsets, truncated, or missing
    let bytes = [UInt8](TinyDevkit.meta(compressed: true))
    for (contents, expected) in [
      (MATWriter().file([("other", .numbers([1, 1], [1]))], compressed: true), "no variable synsets (it holds: other)"),
      (MATWriter().file([("synsets", .numbers([1, 1], [1]))], compressed: false), "not a struct array"),
      (Data(bytes.prefix(bytes.count - 9)), "truncated"),
      (Data(bytes.prefix(60)), "shorter than a MAT-file's 128-byte header"),
    ] {
      try contents.write(to: meta)
      #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: {
        "\($0)".contains(meta.path) && "\($0)".contains(expected)
      }
    }
    try FileManager.default.removeItem(at: meta)
    #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: { "\($0)".contains(meta.path) }

    // no labels anywhere: the error lists where they were looked for
    try FileManager.default.removeItem(at: truth)
    #expect { try FolderImageList.load(from: folder.url, split: .test) } throws: { "\($0)".contains(truth.path) }
  }
}
