import Foundation
import Testing

@testable import RobustTraining

@Suite struct RandomCropFlipTests {
  /// Host-side reference: pixel (n, c, y, x) of the augmented batch is the padded image at
  /// row y + dy and column dx + x, or dx + (W - 1 - x) when the sample is flipped.
  private func reference(_ images: Tensor, _ draw: RandomCropFlip.Draw, padding p: Int) throws -> [Float] {
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let pixels = try images.toArray(Float.self)
    let dy = try draw.rowOffsets.toArray(Int64.self).map(Int.init)
    let dx = try draw.columnOffsets.toArray(Int64.self).map(Int.init)
    let flips = try draw.flipped.toArray(Bool.self)
    var out = [Float]()
    for s in 0..<n {
      for ch in 0..<c {
        for y in 0..<h {
          for x in 0..<w {
            let py = y + dy[s] - p
            let px = (flips[s] ? w - 1 - x : x) + dx[s] - p
            let inside = (0..<h).contains(py) && (0..<w).contains(px)
            out.append(inside ? pixels[((s * c + ch) * h + py) * w + px] : 0)
          }
        }
      }
    }
    return out
  }

  private func images() throws -> Tensor {
    try Tensor.rand([16, 3, 8, 8], generator: try Generator(seed: 5)) + 0.5  // no zeros, so padding shows
  }

  @Test func keepsShapeAndDtype() throws {
    let augment = RandomCropFlip()
    let x = try images()
    let y = try augment(x, seed: 1)
    #expect(y.shape == x.shape)
    #expect(y.dtype == .float32)
    let bytes = try Tensor([UInt8](repeating: 9, count: 2 * 1 * 5 * 5), shape: [2, 1, 5, 5])
    let augmentedBytes = try augment(bytes, seed: 2)
    #expect(augmentedBytes.shape == [2, 1, 5, 5])
    #expect(augmentedBytes.dtype == .uint8)
  }

  @Test func cropsAreShiftedWindowsOfThePaddedImage() throws {
    let augment = RandomCropFlip(padding: 4, flips: false)
    let x = try images()
    let draw = try augment.draw(count: 16, device: .cpu, generator: try Generator(seed: 3))
    #expect(try draw.flipped.any().item() == 0)
    let offsets = try draw.rowOffsets.toArray(Int64.self) + draw.columnOffsets.toArray(Int64.self)
    #expect(offsets.allSatisfy { (0...8).contains($0) })
    #expect(Set(offsets).count > 3)
    #expect(try augment.apply(draw, to: x).toArray(Float.self) == reference(x, draw, padding: 4))
  }

  @Test func flipsAreExactMirrorsOfTheWindow() throws {
    let augment = RandomCropFlip(padding: 4, flips: true)
    let x = try images()
    let draw = try augment.draw(count: 16, device: .cpu, generator: try Generator(seed: 4))
    let flipCount = try draw.flipped.to(.int64).sum().item()
    #expect(flipCount > 0 && flipCount < 16)
    #expect(try augment.apply(draw, to: x).toArray(Float.self) == reference(x, draw, padding: 4))
  }

  @Test func centredWindowIsTheImageOrItsMirror() throws {
    let augment = RandomCropFlip(padding: 4)
    let x = try images()
    let centre = try Tensor.full([16], 4, dtype: .int64)
    let plain = RandomCropFlip.Draw(
      rowOffsets: centre, columnOffsets: centre, flipped: try Tensor.zeros([16], dtype: .bool))
    #expect(try augment.apply(plain, to: x).toArray(Float.self) == x.toArray(Float.self))
    let mirrored = RandomCropFlip.Draw(
      rowOffsets: centre, columnOffsets: centre, flipped: try Tensor.ones([16], dtype: .bool))
    #expect(try augment.apply(mirrored, to: x).toArray(Float.self) == x.flipped([3]).toArray(Float.self))
    // Offset (0, 0): the top-left window, whose first 4 rows and columns are padding.
    let corner = RandomCropFlip.Draw(
      rowOffsets: try Tensor.zeros([16], dtype: .int64), columnOffsets: try Tensor.zeros([16], dtype: .int64),
      flipped: try Tensor.zeros([16], dtype: .bool))
    let cornerCrop = try augment.apply(corner, to: x)
    #expect(try cornerCrop.slice(dim: 2, 0, 4).abs().sum().item() == 0)
    #expect(try cornerCrop.slice(dim: 2, 4, 8).slice(dim: 3, 4, 8).toArray(Float.self)
      == x.slice(dim: 2, 0, 4).slice(dim: 3, 0, 4).toArray(Float.self))
  }

  @Test func sameSeedGivesTheSameResult() throws {
    let augment = RandomCropFlip()
    let x = try images()
    let a = try augment(x, seed: 42).toArray(Float.self)
    #expect(try augment(x, seed: 42).toArray(Float.self) == a)
    #expect(try augment(x, seed: 43).toArray(Float.self) != a)
    let g1 = try Generator(seed: 9)
    let g2 = try Generator(seed: 9)
    #expect(try augment(x, generator: g1).toArray(Float.self) == augment(x, generator: g2).toArray(Float.self))
  }

  @Test func rejectsImagesThatAreNotABatch() throws {
    #expect(throws: DatasetError.self) { _ = try RandomCropFlip()(try Tensor.zeros([3, 8, 8]), seed: 0) }
  }
}
