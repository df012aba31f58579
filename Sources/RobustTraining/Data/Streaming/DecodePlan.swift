import Foundation

/// How one sample is decoded: the DCT scale (libjpeg decodes at `scale`/8, the smallest that keeps the crop at
/// least the output size, so that most of the shrinking costs nothing), the window of the scaled image that
/// is decoded (the rows and columns the filters reach), and the filters that resample it.
public struct DecodePlan: Equatable, Sendable {
  public let scale: Int
  /// The crop in the original image's pixels.
  public let box: CropBox
  public let flip: Bool
  public let columns: AxisFilter
  public let rows: AxisFilter
  public let window: (left: Int, top: Int, width: Int, height: Int)

  /// The DCT scales used (8/8 is a plain decode): those libjpeg-turbo has SIMD kernels for. Its 3/8, 5/8, 6/8
  /// and 7/8 kernels are plain C, and cost more than a full decode's SIMD one: on the 400x350 benchmark folder
  /// (docs/data.md) scales 1...8 took 7.3-8.0 s of CPU for 5,000 images, full decodes alone 6.2-7.2 s.
  static let scales = [1, 2, 4, 8]

  public init(width: Int, height: Int, box: CropBox, flip: Bool, size: Int) {
    let side = Double(size)
    scale = Self.scales.first { Double($0) / 8 * box.width >= side && Double($0) / 8 * box.height >= side } ?? 8
    let scaled = JPEG.scaledSize(width: width, height: height, scale: scale)
    let crop = box.scaled(by: Double(scale) / 8)
    self.box = box
    self.flip = flip
    columns = AxisFilter(output: size, low: crop.x, length: crop.width, sourceSize: scaled.width)
    rows = AxisFilter(output: size, low: crop.y, length: crop.height, sourceSize: scaled.height)
    let (x, y) = (columns.sourceRange, rows.sourceRange)
    window = (x.lowerBound, y.lowerBound, x.count, y.count)
  }

  public static func == (a: DecodePlan, b: DecodePlan) -> Bool {
    a.scale == b.scale && a.box == b.box && a.flip == b.flip && a.columns == b.columns && a.rows == b.rows
  }
}

extension FolderTransform {
  /// The plan of the sample at `position` of `epoch` whose image is `width` x `height`.
  public func plan(width: Int, height: Int, seed: UInt64, epoch: Int, position: Int) -> DecodePlan {
    var random = SampleRandom(seed: seed, epoch: epoch, position: position)
    let (box, flip) = draw(width: width, height: height, random: &random)
    return DecodePlan(width: width, height: height, box: box, flip: flip, size: outputSize)
  }
}
