import CJpeg
import Foundation

extension JPEG {
  /// The image's width and height, from its header.
  static func size(of data: UnsafeRawBufferPointer) throws -> (width: Int, height: Int) {
    var width: Int32 = 0
    var height: Int32 = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = cjpeg_read_size(data.bindMemory(to: UInt8.self).baseAddress, data.count, &width, &height, &message,
                                 message.count)
    guard status == Int32(CJPEG_OK) else { throw Failure(reason: String(cString: message)) }
    guard width > 0, height > 0, Int(width) * Int(height) <= maximumPixels else {
      throw Failure(reason: "the header declares \(width)x\(height) pixels (at most \(maximumPixels) are read)")
    }
    return (Int(width), Int(height))
  }

  /// The size of a `width` x `height` image decoded at `scale`/8.
  static func scaledSize(width: Int, height: Int, scale: Int) -> (width: Int, height: Int) {
    ((width * scale + 7) / 8, (height * scale + 7) / 8)
  }

  /// Decodes the window of `columns` x `rows` pixels at (`left`, `top`) of the image scaled by `scale`/8 into
  /// `rgb` (interleaved, `columns * rows * 3` bytes), decoding only what the window needs.
  static func decodeRegion(_ data: UnsafeRawBufferPointer, scale: Int, left: Int, top: Int, columns: Int, rows: Int,
                           into rgb: UnsafeMutablePointer<UInt8>) throws
  {
    var message = [CChar](repeating: 0, count: 256)
    let status = cjpeg_decode_region(data.bindMemory(to: UInt8.self).baseAddress, data.count, Int32(scale), Int32(left),
                                     Int32(top), Int32(columns), Int32(rows), rgb, &message, message.count)
    guard status == Int32(CJPEG_OK) else { throw Failure(reason: String(cString: message)) }
  }

  /// The whole image decoded at `scale`/8 (1...8; 8 is a plain decode), interleaved RGB.
  public static func decode(_ data: Data, scale: Int) throws -> Image {
    try data.withUnsafeBytes { bytes in
      let (width, height) = try size(of: bytes)
      let scaled = scaledSize(width: width, height: height, scale: scale)
      var rgb = [UInt8](repeating: 0, count: scaled.width * scaled.height * 3)
      try rgb.withUnsafeMutableBufferPointer { out in
        try decodeRegion(bytes, scale: scale, left: 0, top: 0, columns: scaled.width, rows: scaled.height,
                         into: out.baseAddress!)
      }
      return Image(width: scaled.width, height: scaled.height, rgb: rgb)
    }
  }
}
