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

/// Cutout with torchtoolbox's defaults, on tensors: over many draws the share of images cut, the rectangles'
/// areas and aspect ratios follow p 0.5, U(2 %, 40 %) and U(0.4, 2.5); a cut is one value in every channel.
@Suite struct CutoutTests {
  @Test func drawsFollowTheDefaultsDistributions() throws {
    let (n, side) = (20_000, 32)
    let d = try Cutout().draw(count: n, height: side, width: side, device: .cpu, generator: try Generator(seed: 7))
    let applied = try d.applied.toArray(Bool.self)
    let heights = try d.height.toArray(Int64.self).map(Double.init)
    let widths = try d.width.toArray(Int64.self).map(Double.init)
    let tops = try d.top.toArray(Int64.self)
    let lefts = try d.left.toArray(Int64.self)
    let values = try d.value.toArray(Double.self)
    let share = Double(applied.filter { $0 }.count) / Double(n)
    #expect(abs(share - 0.5) < 0.02, "\(share) of the images cut")
    // area = floor(sqrt(s H W / r)) * floor(sqrt(s H W r)): within rounding of s H W, s in [0.02, 0.4]
    let areas = zip(heights, widths).map { $0 * $1 / Double(side * side) }
    #expect(areas.allSatisfy { $0 <= 0.4 + 1e-9 } && areas.min()! >= 0.0)
    let meanArea = areas.reduce(0, +) / Double(n)
    #expect(meanArea > 0.17 && meanArea < 0.21, "mean area \(meanArea) (U(0.02, 0.4) has mean 0.21, less the floors)")
    let ratios = zip(heights, widths).filter { $0.1 > 2 }.map { $0.0 / $0.1 }
    #expect(ratios.allSatisfy { $0 > 0.25 && $0 < 4 })
    #expect(abs(ratios.reduce(0, +) / Double(ratios.count) - 1.45) < 0.1, "aspect ratios average about (0.4 + 2.5) / 2")
    for i in 0..<n {
      #expect(tops[i] >= 0 && Double(tops[i]) + heights[i] <= Double(side) && lefts[i] >= 0 && Double(lefts[i]) + widths[i] <= Double(side))
    }
    let levels = values.map { $0 * 255 }
    #expect(levels.allSatisfy { $0 >= 0 && $0 <= 255 && abs($0 - $0.rounded()) < 1e-9 })
    #expect(Set(levels.map { Int($0.rounded()) }).count == 256, "every grey level from 0 to 255 occurs")
  }

  @Test func aCutIsOneRectangleOfOneValueInEveryChannel() throws {
    let images = try Tensor.rand([64, 3, 16, 16], generator: try Generator(seed: 1))
    let cut = try Cutout(probability: 1)(images, generator: try Generator(seed: 2))
    let changed = try (try (cut - images).abs() .> 0).to(.float32)
    for i in 0..<64 {
      let sample = try cut.select(dim: 0, i)
      let mask = try changed.select(dim: 0, i).max(dims: [0])  // any channel
      let count = Int(try mask.sum().item() as Double)
      guard count > 0 else { continue }
      let values = try sample.toArray(Float.self)
      let maskValues = try mask.toArray(Float.self)
      let filled = maskValues.indices.filter { maskValues[$0] > 0 }
      let first = values[filled[0]]
      #expect(filled.allSatisfy { p in (0..<3).allSatisfy { c in values[c * 256 + p] == first } }, "sample \(i)")
      // the changed pixels form a rectangle
      let rows = Set(filled.map { $0 / 16 }), columns = Set(filled.map { $0 % 16 })
      #expect(count <= rows.count * columns.count)
    }
    let none = try Cutout(probability: 0)(images, generator: try Generator(seed: 2))
    #expect(try (none - images).abs().max().item() == 0)
  }

  @Test func theSameSeedCutsTheSameWay() throws {
    let images = try Tensor.rand([8, 3, 32, 32], generator: try Generator(seed: 3))
    let a = try Cutout()(images, generator: try Generator(seed: 9))
    let b = try Cutout()(images, generator: try Generator(seed: 9))
    #expect(try (a - b).abs().max().item() == 0)
  }
}
