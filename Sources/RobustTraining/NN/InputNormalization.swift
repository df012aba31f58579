import Foundation
import Torch

/// Per-channel (x - mean) / std applied inside a model, so that attacks and data stay in [0, 1]
/// pixel space. Not a parameter or buffer: it does not appear in the state dict, which keeps
/// checkpoints key-compatible with the public PyTorch code.
public struct InputNormalization: Sendable, Codable, Equatable {
  public let mean: [Double]
  public let std: [Double]

  public init(mean: [Double], std: [Double]) {
    self.mean = mean
    self.std = std
  }

  public static let cifar10 = InputNormalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2471, 0.2435, 0.2616])
  public static let cifar100 = InputNormalization(mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762])
  /// ImageNet's statistics, which the AGR authors' models use for every dataset (`tools.normalize`).
  public static let imagenet = InputNormalization(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])

  /// The named ones, for `parse`.
  public static let named: [String: InputNormalization] = ["imagenet": imagenet, "cifar10": cifar10, "cifar100": cifar100]

  /// "none" (nil), a name of `named`, or "MEAN/STD" with comma-separated per-channel values
  /// ("0.5,0.5,0.5/0.25,0.25,0.25"); every std must be positive and both lists equally long.
  public static func parse(_ text: String) throws -> InputNormalization? {
    let key = text.lowercased()
    if key == "none" { return nil }
    if let known = named[key] { return known }
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    func values(_ part: Substring) -> [Double]? {
      let numbers = part.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
      return numbers.isEmpty || numbers.contains(nil) ? nil : numbers.compactMap { $0 }
    }
    guard parts.count == 2, let mean = values(parts[0]), let std = values(parts[1]), mean.count == std.count,
      mean.allSatisfy(\.isFinite), std.allSatisfy({ $0.isFinite && $0 > 0 })
    else {
      throw ConfigurationError(key: "normalization", "'\(text)' is not none, \(named.keys.sorted().joined(separator: ", ")) "
        + "or MEAN/STD (comma-separated per channel, e.g. 0.5,0.5,0.5/0.25,0.25,0.25; std > 0)")
    }
    return InputNormalization(mean: mean, std: std)
  }

  /// The metadata key under which checkpoints record the model's normalisation (JSON; absent: none).
  public static let metadataKey = "normalization"

  /// The normalisation a checkpoint's metadata records (nil when it records none).
  public static func fromMetadata(_ metadata: [String: String], file: String) throws -> InputNormalization? {
    guard let json = metadata[metadataKey] else { return nil }
    do { return try JSONDecoder().decode(InputNormalization.self, from: Data(json.utf8)) } catch {
      throw CheckpointError.badMetadata(file: file, key: metadataKey, detail: "does not decode: \(error)")
    }
  }

  /// The metadata entry that records this normalisation.
  public var metadata: [String: String] {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return (try? encoder.encode(self)).map { [Self.metadataKey: String(decoding: $0, as: UTF8.self)] } ?? [:]
  }

}

/// Applies an `InputNormalization`, keeping its constants on the input's device (built once).
final class InputNormalizer {
  let normalization: InputNormalization
  private var cached: (device: Device, dtype: DType, mean: Tensor, std: Tensor)?

  init(_ normalization: InputNormalization) { self.normalization = normalization }

  func callAsFunction(_ x: Tensor) throws -> Tensor {
    let (device, dtype) = (x.device, x.dtype)
    if cached == nil || cached!.device != device || cached!.dtype != dtype {
      let c = normalization.mean.count
      let mean = try Tensor(normalization.mean.map(Float.init), shape: [1, c, 1, 1], device: device).to(dtype)
      let std = try Tensor(normalization.std.map(Float.init), shape: [1, c, 1, 1], device: device).to(dtype)
      cached = (device, dtype, mean, std)
    }
    return try (x - cached!.mean) / cached!.std
  }
}
