import Torch

/// What a training step does with its gradients between the backward passes and the optimizer: from the
/// method loss's gradients and the clean loss's (both in the parameters' order) it makes the gradients
/// the optimizer applies, with per-tensor statistics for the diagnostics. AGR is one
/// (`AdaptiveGradientReconstruction`, the default); a step that has no clean gradient, or that only
/// measures (`agr: false`), applies the method's gradients as they are.
public protocol GradientTransform: AnyObject {
  func transform(method: [Tensor], clean: [Tensor]) throws
    -> (gradients: [Tensor], statistics: GradientReconstruction.Statistics)
}

/// AGR as a gradient transform: `GradientReconstruction`'s arithmetic by `path` (the same numbers either
/// way); the flat path's layout is made on first use and kept.
public final class AdaptiveGradientReconstruction: GradientTransform {
  public var reconstruction: GradientReconstruction
  public var path: ReconstructionPath
  private(set) var layout: FlatLayout?

  public init(_ reconstruction: GradientReconstruction, path: ReconstructionPath) {
    self.reconstruction = reconstruction
    self.path = path
  }

  public func transform(method gAdv: [Tensor], clean gNat: [Tensor]) throws
    -> (gradients: [Tensor], statistics: GradientReconstruction.Statistics)
  {
    switch path {
    case .perTensor:
      return try reconstruction.reconstruct(clean: gNat, adversarial: gAdv)
    case .flat:
      // Rebuilt only when the gradients change shape, device or memory order (building uploads the lengths).
      if layout?.describes(gNat) != true { layout = try FlatLayout(like: gNat) }
      return try reconstruction.reconstructFlat(clean: gNat, adversarial: gAdv, layout: layout!)
    }
  }
}
