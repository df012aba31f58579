import Foundation

/// The random numbers of one sample: a SplitMix64 stream seeded by (seed, epoch, position in the epoch), so a
/// sample's crop and flip do not depend on which thread decodes it, nor on what was decoded before.
struct SampleRandom {
  private var state: UInt64

  init(seed: UInt64, epoch: Int, position: Int) {
    state = BatchLoader.mix(BatchLoader.mix(seed ^ 0xC809_5A3D, UInt64(truncatingIfNeeded: epoch)),
                            UInt64(truncatingIfNeeded: position))
  }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [low, high).
  mutating func uniform(_ low: Double, _ high: Double) -> Double {
    low + (high - low) * Double(next() >> 11) * 0x1p-53
  }

  /// Uniform in 0..<count (count > 0).
  mutating func below(_ count: Int) -> Int { Int(next() % UInt64(count)) }
}
