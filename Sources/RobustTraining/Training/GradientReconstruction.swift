import Torch

/// AGR, adaptive gradient reconstruction (ACM MM 2024). Per parameter tensor, from the clean-loss
/// gradient g_nat and the method-loss gradient g_adv with cosine cs:
///
///     cs <= 0:  G = g_adv - <g_adv, g_nat> / |g_nat|^2 * g_nat   (gradient orthogonal projection)
///     cs  > 0:  G = cs * g_nat + (1 - cs) * g_adv                 (interpolation)
///
/// then G is scaled to L2 norm <= clip. Every tensor is its own unit. The arithmetic is batched over
/// all tensors with multi-tensor operations and no host synchronisation: the per-tensor choice is
/// made with `where` on device-resident vectors.
public struct GradientReconstruction: Codable, Equatable, Sendable {
  /// C, the largest L2 norm of a reconstructed tensor gradient (0.1 in the paper).
  public var clip: Double

  public init(clip: Double = 0.1) { self.clip = clip }

  /// Per-tensor statistics of one reconstruction, as device tensors (read them only when needed).
  public struct Statistics {
    /// Cosine similarity of g_nat and g_adv per tensor.
    public let cosine: Tensor
    public let cleanNorm: Tensor
    public let adversarialNorm: Tensor
  }

  /// Per tensor: the cosine, and the weights of g_nat and g_adv in G (before clipping):
  /// (-<g_adv,g_nat>/|g_nat|^2, 1) where cs <= 0, (cs, 1 - cs) elsewhere.
  static func weights(dots: Tensor, cleanNorm: Tensor, adversarialNorm: Tensor) throws
    -> (cosine: Tensor, clean: Tensor, adversarial: Tensor)
  {
    let cosine = try dots / (try adversarialNorm * cleanNorm + 1e-20)
    // With |g_nat| = 0 the projection is the identity (the tiny term avoids 0/0).
    let projection = try dots / (try cleanNorm * cleanNorm + 1e-20)
    let conflict = try cosine .<= 0
    return (cosine, try Tensor.where(conflict, try -projection, cosine),
            try Tensor.where(conflict, try cosine.onesLike(), try 1.0 - cosine))
  }

  public func reconstruct(clean gNat: [Tensor], adversarial gAdv: [Tensor]) throws -> (gradients: [Tensor],
                                                                                         statistics: Statistics)
  {
    guard gNat.count == gAdv.count, !gNat.isEmpty else {
      throw TorchError("AGR: \(gNat.count) clean and \(gAdv.count) adversarial gradients")
    }
    guard clip > 0 else { throw TorchError("AGR: the clip C must be positive, got \(clip)") }
    // Sums accumulated in float64 (`Foreach.dots`): a float32 sum over millions of entries can move a cosine
    // near 0 across the branch point.
    let dots = try Foreach.dots(gAdv, gNat)
    let normAdv = try Foreach.dots(gAdv, gAdv).sqrt()
    let normNat = try Foreach.dots(gNat, gNat).sqrt()
    let (cosine, weightNat, weightAdv) = try Self.weights(dots: dots, cleanNorm: normNat, adversarialNorm: normAdv)
    let combined = try Foreach.add(try Foreach.mul(gNat, scales: weightNat), try Foreach.mul(gAdv, scales: weightAdv))
    let scale = try (clip / (try Foreach.norms(combined) + 1e-12)).clamped(max: 1)
    let gradients = try Foreach.mul(combined, scales: scale)
    return (gradients, Statistics(cosine: cosine, cleanNorm: normNat, adversarialNorm: normAdv))
  }
}
