import CJpeg
import Foundation

/// JPEG decoding and encoding with libjpeg-turbo (linked into the binary).
public enum JPEG {
  public struct Failure: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { reason }
  }

  /// A decoded image: `height` rows of `width` RGB pixels, interleaved (HWC).
  public struct Image: Equatable {
    public let width: Int
    public let height: Int
    public let rgb: [UInt8]
  }

  /// The most pixels an image may have (8192 x 8192): a header may declare up to 65,535 x 65,535, and a
  /// corrupt or hostile one should be refused, not allocated.
  public static let maximumPixels = 8192 * 8192

  /// Decodes any baseline or progressive JPEG; grayscale images come back as RGB (R = G = B).
  public static func decode(_ data: Data) throws -> Image {
    var capacity = 64 * 64 * 3
    while true {
      var width: Int32 = 0
      var height: Int32 = 0
      var rgb = [UInt8](repeating: 0, count: capacity)
      let status = try rgb.withUnsafeMutableBufferPointer { try decodeStatus(data, into: $0, width: &width, height: &height) }
      if status == Int32(CJPEG_OK) {
        return Image(width: Int(width), height: Int(height), rgb: Array(rgb.prefix(Int(width) * Int(height) * 3)))
      }
      guard Int(width) * Int(height) <= maximumPixels else {
        throw Failure(reason: "the header declares \(width)x\(height) pixels, more than the \(maximumPixels) this reader accepts")
      }
      guard Int(width) * Int(height) * 3 > capacity else { throw Failure(reason: "the decoder asked for no larger buffer") }
      capacity = Int(width) * Int(height) * 3
    }
  }

  /// Decodes into `rgb` (interleaved RGB, `width * height * 3` bytes) when the image is exactly
  /// `width` x `height`; throws otherwise, naming the size found.
  static func decode(_ data: Data, expectingWidth width: Int, height: Int, into rgb: UnsafeMutableBufferPointer<UInt8>)
    throws
  {
    var foundWidth: Int32 = 0
    var foundHeight: Int32 = 0
    let status = try decodeStatus(data, into: rgb, width: &foundWidth, height: &foundHeight)
    guard status == Int32(CJPEG_OK), foundWidth == width, foundHeight == height else {
      throw Failure(reason: "image is \(foundWidth)x\(foundHeight) pixels, expected \(width)x\(height)")
    }
  }

  /// Encodes interleaved pixels with `channels` 1 (gray) or 3 (RGB) per pixel.
  public static func encode(_ pixels: [UInt8], width: Int, height: Int, channels: Int, quality: Int = 95) throws -> Data {
    guard width > 0, height > 0, pixels.count == width * height * channels else {
      throw Failure(reason: "\(pixels.count) bytes do not hold \(width)x\(height) pixels of \(channels) channels")
    }
    var buffer: UnsafeMutablePointer<UInt8>?
    var size = 0
    var message = [CChar](repeating: 0, count: 256)
    let status = pixels.withUnsafeBufferPointer { source in
      cjpeg_encode(source.baseAddress, Int32(width), Int32(height), Int32(channels), Int32(quality), &buffer, &size,
                   &message, message.count)
    }
    guard status == Int32(CJPEG_OK), let buffer else { throw Failure(reason: String(cString: message)) }
    defer { cjpeg_free(buffer) }
    return Data(bytes: buffer, count: size)
  }

  /// CJPEG_OK, or CJPEG_TOO_SMALL with the size set; throws on invalid data.
  private static func decodeStatus(_ data: Data, into rgb: UnsafeMutableBufferPointer<UInt8>, width: inout Int32,
                                   height: inout Int32) throws -> Int32
  {
    var message = [CChar](repeating: 0, count: 256)
    let status = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
      cjpeg_decode_rgb(bytes.bindMemory(to: UInt8.self).baseAddress, bytes.count, rgb.baseAddress, rgb.count, &width,
                       &height, &message, message.count)
    }
    if status == Int32(CJPEG_ERROR) { throw Failure(reason: String(cString: message)) }
    return status
  }
}
