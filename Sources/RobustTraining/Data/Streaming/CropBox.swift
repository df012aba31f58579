import Foundation

/// A region of an image in pixel edges (x from 0 at the left edge to the width at the right edge): the part
/// a transform resamples to its output size.
public struct CropBox: Equatable, Sendable {
  public var x: Double
  public var y: Double
  public var width: Double
  public var height: Double

  public init(x: Double, y: Double, width: Double, height: Double) {
    (self.x, self.y, self.width, self.height) = (x, y, width, height)
  }

  /// The same region in an image scaled by `factor` (libjpeg's DCT scaling maps pixel edges linearly).
  func scaled(by factor: Double) -> CropBox {
    CropBox(x: x * factor, y: y * factor, width: width * factor, height: height * factor)
  }
}

/// How a folder's images become model inputs of `size` x `size` pixels.
public enum FolderTransform: Equatable, Sendable {
  /// Training: torchvision's `RandomResizedCrop(size)` (area 8-100 %, aspect 3/4-4/3, ten tries, else the
  /// centre crop of the clamped aspect) and a horizontal flip with probability 1/2.
  case randomResizedCrop(size: Int)
  /// Evaluation: the shorter side resized to `resize`, the centre `size` x `size` kept (torchvision's
  /// `Resize(256)` + `CenterCrop(224)`), done as one resampling of the centre box of the original image.
  case centreCrop(size: Int, resize: Int)

  public static let training = FolderTransform.randomResizedCrop(size: 224)
  public static let evaluation = FolderTransform.centreCrop(size: 224, resize: 256)

  /// The evaluation transform for `size` x `size` inputs: the shorter side resized to 256/224 of it first.
  public static func evaluation(size: Int) -> FolderTransform {
    .centreCrop(size: size, resize: Int((Double(size) * 256 / 224).rounded()))
  }

  public var outputSize: Int {
    switch self {
    case .randomResizedCrop(let size), .centreCrop(let size, _): return size
    }
  }

  /// The box and flip of one sample of a `width` x `height` image.
  func draw(width: Int, height: Int, random: inout SampleRandom) -> (box: CropBox, flip: Bool) {
    switch self {
    case .randomResizedCrop:
      let box = Self.randomResizedBox(width: width, height: height, random: &random)
      return (box, random.uniform(0, 1) < 0.5)
    case .centreCrop(let size, let resize):
      let side = Double(size) * Double(min(width, height)) / Double(resize)
      let box = CropBox(x: (Double(width) - side) / 2, y: (Double(height) - side) / 2, width: side, height: side)
      return (box, false)
    }
  }

  /// RandomResizedCrop's box: whole pixels, as torchvision draws it (scale 0.08...1, log-uniform aspect
  /// 3/4...4/3).
  static func randomResizedBox(width: Int, height: Int, random: inout SampleRandom) -> CropBox {
    let area = Double(width * height)
    let (lowRatio, highRatio) = (3.0 / 4, 4.0 / 3)
    for _ in 0..<10 {
      let target = area * random.uniform(0.08, 1)
      let aspect = exp(random.uniform(log(lowRatio), log(highRatio)))
      let w = Int((target * aspect).squareRoot().rounded())
      let h = Int((target / aspect).squareRoot().rounded())
      if w > 0, h > 0, w <= width, h <= height {
        let top = random.below(height - h + 1)
        let left = random.below(width - w + 1)
        return CropBox(x: Double(left), y: Double(top), width: Double(w), height: Double(h))
      }
    }
    let ratio = Double(width) / Double(height)
    var (w, h) = (width, height)
    if ratio < lowRatio {
      h = Int((Double(w) / lowRatio).rounded())
    } else if ratio > highRatio {
      w = Int((Double(h) * highRatio).rounded())
    }
    return CropBox(x: Double((width - w) / 2), y: Double((height - h) / 2), width: Double(w), height: Double(h))
  }
}
