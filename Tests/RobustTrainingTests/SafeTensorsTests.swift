import Foundation
import Testing

@testable import RobustTraining

/// Builds a safetensors file by hand: 8-byte little-endian length, the header text, then `data`.
private func rawFile(header: String, data: [UInt8]) -> Data {
  var out = Data()
  withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
  out.append(contentsOf: Array(header.utf8))
  out.append(contentsOf: data)
  return out
}

private func expectMalformed(mentioning texts: [String], _ bytes: Data, sourceLocation: SourceLocation = #_sourceLocation) {
  do {
    _ = try SafeTensors.decode(bytes, file: "bad.safetensors")
    Issue.record("expected an error mentioning \(texts)", sourceLocation: sourceLocation)
  } catch let error as CheckpointError {
    guard case .malformed = error else {
      Issue.record("expected .malformed, got \(error)", sourceLocation: sourceLocation)
      return
    }
    for text in texts + ["bad.safetensors"] {
      #expect(error.description.contains(text), "'\(error)' does not mention \(text)", sourceLocation: sourceLocation)
    }
  } catch {
    Issue.record("expected a CheckpointError, got \(error)", sourceLocation: sourceLocation)
  }
}

/// A valid file with several dtypes, for the malformed-input and fuzz tests.
private func sampleFile() throws -> Data {
  try SafeTensors(
    tensors: [
      ("weight", try Tensor([Float](arrayLiteral: 1, -2, 3.5, 4, 5, 6), shape: [2, 3])),
      ("steps", try Tensor([Int64](arrayLiteral: 7, 8))),
      ("mask", try Tensor([true, false, true])),
      ("half", try Tensor([Float](arrayLiteral: 0.5, -1)).to(.float16)),
      ("pixels", try Tensor([UInt8](arrayLiteral: 0, 255, 17))),
    ],
    metadata: ["epoch": "3"]
  ).encoded()
}

@Suite struct SafeTensorsRoundTripTests {
  private func roundTrip(_ tensor: Tensor) throws -> Tensor {
    let bytes = try SafeTensors(tensors: [("t", tensor)]).encoded()
    let back = try SafeTensors.decode(bytes)
    #expect(back.names == ["t"])
    return try #require(back["t"])
  }

  @Test(arguments: [DType.float32, .float64, .bfloat16, .float16])
  func floatingPointValuesSurviveExactly(_ dtype: DType) throws {
    let values: [Float] = [0, -0.0, 1, -1.5, 0.1, 3.25e4, -7e-5, 6e-8, .infinity, -.infinity, 65504, 1e-3]
    let tensor = try Tensor(values, shape: [3, 4]).to(dtype)
    let back = try roundTrip(tensor)
    #expect(back.dtype == dtype)
    #expect(back.shape == [3, 4])
    let expected = try tensor.toArray(Float.self)
    let actual = try back.toArray(Float.self)
    #expect(actual.map(\.bitPattern) == expected.map(\.bitPattern))
    let nan = try roundTrip(try Tensor([Float.nan]).to(dtype))
    #expect(try nan.toArray(Float.self)[0].isNaN)
  }

  @Test func everyFloat16BitPatternSurvivesTheHostConversion() throws {
    let patterns = (UInt16.min...UInt16.max).filter { !HalfPrecisionBits.float16ToFloat($0).isNaN }
    let floats = patterns.map(HalfPrecisionBits.float16ToFloat)
    #expect(patterns.filter { HalfPrecisionBits.floatToFloat16(HalfPrecisionBits.float16ToFloat($0)) != $0 } == [])
    // libtorch agrees with the host decoding.
    let viaTorch = try Tensor(floats).to(.float16).toArray(Float.self)
    #expect(zip(viaTorch, floats).filter { $0.bitPattern != $1.bitPattern }.count == 0)
  }

  @Test func integerAndBoolValuesSurvive() throws {
    let i64: [Int64] = [.min, -1, 0, 1, .max]
    #expect(try roundTrip(try Tensor(i64)).toArray(Int64.self) == i64)
    let i32: [Int32] = [.min, -1, 0, 1, .max]
    #expect(try roundTrip(try Tensor(i32)).toArray(Int32.self) == i32)
    let u8: [UInt8] = [0, 1, 127, 128, 255, 3]
    let bytes = try roundTrip(try Tensor(u8, shape: [2, 3]))
    #expect(bytes.dtype == .uint8 && bytes.shape == [2, 3])
    #expect(try bytes.toArray(UInt8.self) == u8)
    let flags = [true, false, false, true]
    let back = try roundTrip(try Tensor(flags, shape: [2, 2]))
    #expect(back.dtype == .bool)
    #expect(try back.toArray(Bool.self) == flags)
  }

  @Test func scalarsEmptyTensorsAndNonContiguousViewsSurvive() throws {
    let scalar = try roundTrip(try Tensor(scalar: 2.5, dtype: .float64))
    #expect(scalar.shape == [])
    #expect(try scalar.item() == 2.5)
    let empty = try roundTrip(try Tensor.zeros([0, 3]))
    #expect(empty.shape == [0, 3])
    let matrix = try Tensor((0..<6).map(Float.init), shape: [2, 3])
    #expect(try roundTrip(try matrix.transposed(0, 1)).toArray(Float.self) == [0, 3, 1, 4, 2, 5])
  }

  @Test func fileLayoutFollowsTheFormat() throws {
    let bytes = try sampleFile()
    let n = Int(bytes.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    #expect((8 + n) % 8 == 0)
    let header = try #require(try JSONSerialization.jsonObject(with: bytes.subdata(in: 8..<(8 + n))) as? [String: Any])
    #expect((header["__metadata__"] as? [String: String]) == ["epoch": "3"])
    let weight = try #require(header["weight"] as? [String: Any])
    #expect(weight["dtype"] as? String == "F32")
    #expect(weight["shape"] as? [Int] == [2, 3])
    #expect(weight["data_offsets"] as? [Int] == [0, 24])
    let buffer = bytes.subdata(in: (8 + n)..<bytes.count)
    #expect(buffer.count == 24 + 16 + 3 + 4 + 3)
    #expect(Array(buffer.prefix(4)) == [0, 0, 0x80, 0x3f])  // 1.0f, little-endian
  }

  @Test func metadataAndOrderSurviveAFile() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("model.safetensors")
    try SafeTensors(tensors: [("b", try Tensor([Float(1)])), ("a", try Tensor([Float(2)]))],
                    metadata: ["format": "pt", "note": "ünïcode \"quoted\""]).write(to: url)
    let back = try SafeTensors.read(from: url)
    #expect(back.names == ["b", "a"])
    #expect(back.metadata == ["format": "pt", "note": "ünïcode \"quoted\""])
  }

  @Test func writesAreAtomicAndLeaveNoTemporaryFiles() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("state.safetensors")
    try SafeTensors(tensors: [("x", try Tensor([Float(1)]))]).write(to: url)
    try SafeTensors(tensors: [("x", try Tensor([Float(2), 3]))]).write(to: url)
    #expect(try SafeTensors.read(from: url)["x"]?.toArray(Float.self) == [2, 3])
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path) == ["state.safetensors"])
    // A failed write (the folder is a file) throws and leaves nothing behind.
    try folder.write([1], to: "plain")
    #expect(throws: CheckpointError.self) {
      try SafeTensors(tensors: [("x", try Tensor([Float(1)]))]).write(to: folder.file("plain/inside.safetensors"))
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: folder.url.path).sorted() == ["plain", "state.safetensors"])
  }

  @Test func namesThatCannotBeStoredAreRejected() throws {
    let t = try Tensor([Float(1)])
    #expect(throws: CheckpointError.self) { _ = try SafeTensors(tensors: [("x", t), ("x", t)]).encoded() }
    #expect(throws: CheckpointError.self) { _ = try SafeTensors(tensors: [("__metadata__", t)]).encoded() }
  }

  @Test func missingFileIsNamed() throws {
    #expect(throws: CheckpointError.missingFile("/nonexistent/x.safetensors")) {
      _ = try SafeTensors.read(from: URL(fileURLWithPath: "/nonexistent/x.safetensors"))
    }
  }
}

@Suite struct SafeTensorsValidationTests {
  @Test func headerLengthMustFitTheFile() {
    expectMalformed(mentioning: ["too short"], Data([1, 2, 3]))
    var bytes = rawFile(header: "{}", data: [])
    bytes[0] = 200
    expectMalformed(mentioning: ["runs past the end"], bytes)
    expectMalformed(mentioning: ["runs past the end"], Data([UInt8](repeating: 0xff, count: 16)))
  }

  @Test func headerMustBeTheExpectedJSON() {
    expectMalformed(mentioning: ["JSON"], rawFile(header: "{not json", data: []))
    expectMalformed(mentioning: ["JSON"], rawFile(header: "[1, 2]", data: []))
    expectMalformed(mentioning: ["JSON"], rawFile(header: #"{"x": {"dtype": "F32", "shape": [1]}}"#, data: [0, 0, 0, 0]))
    expectMalformed(mentioning: ["JSON"], rawFile(header: #"{"x": {"dtype": "F32", "shape": [1.5], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
    expectMalformed(mentioning: ["JSON"], rawFile(header: #"{"__metadata__": {"a": 1}}"#, data: []))
    expectMalformed(mentioning: ["JSON"], Data([2, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe]))
    expectMalformed(mentioning: ["JSON"], rawFile(header: String(repeating: "[", count: 100_000), data: []))
  }

  @Test func unknownDtypeIsNamed() {
    expectMalformed(mentioning: ["'x'", "unknown dtype 'F8_E4M3'"],
                    rawFile(header: #"{"x": {"dtype": "F8_E4M3", "shape": [1], "data_offsets": [0, 1]}}"#, data: [0]))
  }

  @Test func offsetsMustLieInTheBufferAndMatchTheShape() {
    expectMalformed(mentioning: ["'x'", "outside the 4-byte data buffer"],
                    rawFile(header: #"{"x": {"dtype": "U8", "shape": [8], "data_offsets": [0, 8]}}"#, data: [0, 0, 0, 0]))
    expectMalformed(mentioning: ["'x'", "outside"],
                    rawFile(header: #"{"x": {"dtype": "U8", "shape": [0], "data_offsets": [3, 2]}}"#, data: [0, 0, 0, 0]))
    expectMalformed(mentioning: ["'x'", "outside"],
                    rawFile(header: #"{"x": {"dtype": "U8", "shape": [0], "data_offsets": [-1, -1]}}"#, data: [0]))
    expectMalformed(mentioning: ["'x'", "spans 4 bytes", "needs 8"],
                    rawFile(header: #"{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}"#, data: [0, 0, 0, 0]))
    expectMalformed(mentioning: ["'x'", "data_offsets [begin, end]"],
                    rawFile(header: #"{"x": {"dtype": "U8", "shape": [1], "data_offsets": [0]}}"#, data: [0]))
    expectMalformed(mentioning: ["'x'", "negative size"],
                    rawFile(header: #"{"x": {"dtype": "U8", "shape": [-1, -1], "data_offsets": [0, 1]}}"#, data: [0]))
    expectMalformed(mentioning: ["'x'", "impossibly large"],
                    rawFile(header: #"{"x": {"dtype": "F64", "shape": [4294967296, 4294967296, 4294967296], "data_offsets": [0, 0]}}"#, data: []))
  }

  @Test func overlappingTensorsAreNamed() {
    let header = #"{"a": {"dtype": "U8", "shape": [3], "data_offsets": [0, 3]}, "b": {"dtype": "U8", "shape": [2], "data_offsets": [2, 4]}}"#
    expectMalformed(mentioning: ["'a'", "'b'", "overlap"], rawFile(header: header, data: [0, 0, 0, 0]))
  }

  @Test func boolBytesMustBeZeroOrOne() {
    expectMalformed(mentioning: ["'m'", "BOOL", "byte 2"],
                    rawFile(header: #"{"m": {"dtype": "BOOL", "shape": [2], "data_offsets": [0, 2]}}"#, data: [1, 2]))
  }

  @Test func unpaddedHandWrittenFilesLoad() throws {
    let header = #"{"b": {"dtype": "I32", "shape": [], "data_offsets": [2, 6]}, "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#
    let file = try SafeTensors.decode(rawFile(header: header, data: [5, 6, 1, 0, 0, 0]))
    #expect(file.names == ["a", "b"])
    #expect(try file["b"]?.item() == 1)
    #expect(file.metadata.isEmpty)
  }

  /// Every mutation either loads or throws a CheckpointError; none may crash or throw anything else.
  @Test func fuzzedInputsLoadOrThrow() throws {
    let valid = [UInt8](try sampleFile())
    var random = SplitMix64(seed: 20240601)
    var loaded = 0
    var rejected = 0
    func attempt(_ bytes: [UInt8]) {
      do {
        _ = try SafeTensors.decode(Data(bytes), file: "fuzz.safetensors")
        loaded += 1
      } catch let error as CheckpointError {
        #expect(error.description.contains("fuzz.safetensors"))
        rejected += 1
      } catch {
        Issue.record("not a CheckpointError: \(error)")
      }
    }
    for _ in 0..<1000 { attempt(Array(valid.prefix(Int.random(in: 0..<valid.count, using: &random)))) }
    for _ in 0..<2500 {
      var bytes = valid
      for _ in 0..<Int.random(in: 1...3, using: &random) {
        // Most flips land in the header, where the parsing happens.
        let position = Bool.random(using: &random)
          ? Int.random(in: 0..<Swift.min(valid.count, 8 + 200), using: &random)
          : Int.random(in: 0..<valid.count, using: &random)
        bytes[position] = Bool.random(using: &random) ? UInt8.random(in: 0...255, using: &random) : bytes[position] ^ (1 << UInt8.random(in: 0..<8, using: &random))
      }
      attempt(bytes)
    }
    for _ in 0..<1000 {
      let length = Int.random(in: 0..<300, using: &random)
      var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &random) }
      if length >= 8, Bool.random(using: &random) {
        // A plausible header length, so the JSON parser sees the garbage.
        let n = UInt64.random(in: 0...UInt64(length - 8), using: &random)
        withUnsafeBytes(of: n.littleEndian) { for k in 0..<8 { bytes[k] = $0[k] } }
      }
      attempt(bytes)
    }
    #expect(loaded + rejected == 4500)
    #expect(rejected > 3000)
    #expect(loaded > 0)
  }
}

/// Cross-check with the reference implementation when a Python with `safetensors` is at hand
/// (the project venv or the system python); CI does not need it.
private let pythonWithSafeTensors: String? = {
  for python in [TestData.repositoryRoot.appendingPathComponent(".venv/bin/python").path, "/usr/bin/python3"]
  where FileManager.default.isExecutableFile(atPath: python) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: python)
    process.arguments = ["-c", "import safetensors.numpy"]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    if (try? process.run()) != nil {
      process.waitUntilExit()
      if process.terminationStatus == 0 { return python }
    }
  }
  return nil
}()

@Suite struct SafeTensorsInteroperabilityTests {
  @Test(.enabled(if: pythonWithSafeTensors != nil, "no python with the safetensors package"))
  func referenceImplementationReadsOurFiles() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("ours.safetensors")
    try SafeTensors(tensors: [
      ("w", try Tensor([Float](arrayLiteral: 1.5, -2, 3, 4), shape: [2, 2])),
      ("n", try Tensor([Int64](arrayLiteral: -3, 9))),
      ("b", try Tensor([true, false])),
      ("h", try Tensor([Float](arrayLiteral: 0.25, -8)).to(.float16)),
      ("d", try Tensor([Double](arrayLiteral: 1e-300))),
      ("i", try Tensor([Int32](arrayLiteral: -7))),
      ("u", try Tensor([UInt8](arrayLiteral: 200), shape: [1, 1])),
    ], metadata: ["k": "v"]).write(to: url)
    let script = """
      import sys
      from safetensors.numpy import load_file
      from safetensors import safe_open
      t = load_file(sys.argv[1])
      print(sorted(t))
      print(t["w"].dtype, t["w"].shape, t["w"].tolist())
      print(t["n"].tolist(), t["b"].tolist(), t["h"].dtype, t["h"].tolist(), t["d"].tolist(), t["i"].tolist(), t["u"].tolist())
      print(safe_open(sys.argv[1], "np").metadata())
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: pythonWithSafeTensors!)
    process.arguments = ["-c", script, url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0, "\(output)")
    #expect(output == """
      ['b', 'd', 'h', 'i', 'n', 'u', 'w']
      float32 (2, 2) [[1.5, -2.0], [3.0, 4.0]]
      [-3, 9] [True, False] float16 [0.25, -8.0] [1e-300] [-7] [[200]]
      {'k': 'v'}

      """)
  }
}
