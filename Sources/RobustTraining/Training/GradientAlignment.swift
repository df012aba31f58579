import Torch

/// GradAlign (Andriushchenko & Flammarion 2020, `tml-epfl/understanding-fast-adv-training`, `train.py`): a
/// regulariser added to the method loss, lambda * (1 - mean_i cos(g1_i, g2_i)), where g1 is the input gradient
/// of the cross-entropy at the clean images and g2 at the images plus uniform noise in [-eps, eps] (no clipping
/// to [0, 1], as theirs), each example's gradient flattened; the mean runs over the examples whose two gradients
/// are both non-zero. g2 keeps its graph (double backpropagation), so the penalty's weight gradient flows
/// through it; g1 is a constant, as theirs (`backprop=False`). Both passes run in the model's current mode
/// (train mode in the step, as theirs).
public struct GradientAlignment: Equatable, Sendable {
  public var lambda: Double
  public var epsilon: Double
  /// Their CIFAR-10 value at eps 8/255.
  public static let defaultLambda = 0.2

  public init(lambda: Double, epsilon: Double) {
    self.lambda = lambda
    self.epsilon = epsilon
  }

  /// The penalty with the noise drawn from the global generator (seeded per epoch by the trainer).
  func penalty(model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    let u = try Tensor.rand(images.shape, dtype: images.dtype, device: images.device)
    return try penalty(model: model, images: images, labels: labels, noise: try (u * 2 - 1) * epsilon)
  }

  public func penalty(model: any Classifier, images: Tensor, labels: Tensor, noise: Tensor) throws -> Tensor {
    let clean = try images.detached().requiresGrad(true)
    let g1 = try Autograd.gradients(of: try Functional.crossEntropy(try model(clean), labels), wrt: [clean])[0].detached()
    let noisy = try (try images.detached() + noise).requiresGrad(true)
    guard let g2 = try Autograd.grad(of: [try Functional.crossEntropy(try model(noisy), labels)], wrt: [noisy],
                                     retainGraph: true, createGraph: true)[0]
    else { throw TorchError("GradAlign: the input gradient at the noisy point is missing") }
    let (a, b) = (try g1.flattened(from: 1), try g2.flattened(from: 1))
    let norms = try a.norm(2, dims: [1]) * b.norm(2, dims: [1])
    let counted = try (norms .> 0).to(a.dtype)
    let cosines = try (a * b).sum(dims: [1]) / norms.clamped(min: 1e-30)
    let meanCosine = try (cosines * counted).sum() / counted.sum().clamped(min: 1)
    return try (1 - meanCosine) * lambda
  }
}
