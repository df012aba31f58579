import Foundation

/// What one decode thread holds: the buffers for a file, its decoded window and the resampler's rows, reused
/// from image to image (grown when an image needs more).
final class SampleDecoder {
  let transform: FolderTransform
  let seed: UInt64
  let profile: DecodeProfile?
  private var file = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
  private var window = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: 1 << 20)
  private var rowsBuffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1 << 18)

  init(transform: FolderTransform, seed: UInt64, profile: DecodeProfile? = nil) {
    self.transform = transform
    self.seed = seed
    self.profile = profile
  }

  deinit {
    file.deallocate()
    window.deallocate()
    rowsBuffer.deallocate()
  }

  /// Decodes the image at `path`, as the sample at `position` of `epoch`, into `planes` (3 x size x size).
  /// Throws `DatasetError.unreadable` naming the file.
  func decode<Pixel: ResampledPixel>(path: String, epoch: Int, position: Int, into planes: UnsafeMutablePointer<Pixel>)
    throws
  {
    var clock = profile == nil ? 0 : DecodeProfile.now()
    // added as each part ends, so that a batch's time is counted before the reader can get it
    func lap(_ part: DecodeProfile.Part) {
      guard let profile else { return }
      profile.add(part, DecodeProfile.since(clock))
      clock = DecodeProfile.now()
    }
    let count = try read(path)
    lap(.read)
    let bytes = UnsafeRawBufferPointer(rebasing: file[0..<count])
    do {
      let (width, height) = try JPEG.size(of: bytes)
      let plan = transform.plan(width: width, height: height, seed: seed, epoch: epoch, position: position)
      lap(.plan)
      let (left, top, columns, rows) = plan.window
      grow(&window, to: columns * rows * 3)
      try JPEG.decodeRegion(bytes, scale: plan.scale, left: left, top: top, columns: columns, rows: rows,
                            into: window.baseAddress!)
      lap(.decode)
      let size = transform.outputSize
      grow(&rowsBuffer, to: Resampler.scratchCount(plan))
      Resampler.resample(window: window.baseAddress!, plan: plan, size: size, scratch: rowsBuffer.baseAddress!,
                         into: planes)
      lap(.resample)
    } catch let failure as JPEG.Failure {
      throw DatasetError.unreadable(file: path, reason: failure.reason)
    }
  }

  /// Reads the file into `file`; its length.
  private func read(_ path: String) throws -> Int {
    let (descriptor, status) = try DatasetFile.open(path)
    defer { close(descriptor) }
    guard (status.st_mode & S_IFMT) == S_IFREG else { throw DatasetError.unreadable(file: path, reason: "not a regular file") }
    let size = Int(status.st_size)
    guard size > 0 else { throw DatasetError.unreadable(file: path, reason: "empty file") }
    if size > file.count {
      file.deallocate()
      file = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 16)
    }
    var done = 0
    while done < size {
      let n = Foundation.read(descriptor, file.baseAddress! + done, size - done)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else {
        throw DatasetError.unreadable(file: path, reason: n < 0 ? String(cString: strerror(errno)) : "the file shrank while read")
      }
      done += n
    }
    return size
  }

  private func grow<T>(_ buffer: inout UnsafeMutableBufferPointer<T>, to count: Int) {
    guard count > buffer.count else { return }
    buffer.deallocate()
    buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: count)
  }
}
