import Torch

/// One FAB run (the algorithm shared by FAB-T and untargeted FAB), L-inf, L2 or L1: see `FABTargeted`.
struct FABRun: Sendable {
  let threatModel: ThreatModel
  let iterations: Int
  let alphaMax: Double
  let eta: Double
  let beta: Double

  /// `found` where it lies within epsilon of `images`, else the clean image (FAB looks for minimal examples,
  /// which may lie outside the ball).
  func keepInside(_ found: Tensor, images: Tensor) throws -> Tensor {
    let inside = try threatModel.distance(found, images) .<= threatModel.epsilon
    return try AttackSupport.choose(inside, found, images)
  }

  /// The closest misclassified iterate found per sample (the image itself where none was). `boundary(x)` gives,
  /// per sample, the value f of the decision function whose zero set is the boundary to cross and its input
  /// gradient at `x`. With a `generator`, the run starts at a random point at half epsilon.
  func closestExample(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator?,
                      boundary: (Tensor) throws -> (f: Tensor, gradient: Tensor)) throws -> Tensor
  {
    let n = images.shape[0]
    var x = images
    if let generator {
      let direction: Tensor
      if threatModel.norm == .lInf {
        let t = try AttackSupport.uniform(images.shape, like: images, generator: generator) * 2 - 1
        direction = try t / (try t.flattened(from: 1).abs().max(dims: [1]).reshaped(rowShape(t)) + 1e-12)
      } else {
        let t = try AttackSupport.normal(images.shape, like: images, generator: generator)
        let length = try t.flattened(from: 1).norm(threatModel.norm.p, dims: [1]).reshaped(rowShape(t))
        direction = try t / (try length + 1e-12)
      }
      x = try (try images + (try direction * (0.5 * threatModel.epsilon))).clamped(min: 0, max: 1)
    }
    var best = images
    var bestDistance = try Tensor.full([n], .infinity, dtype: .float32, device: images.device)
    let flatImages = try images.flattened(from: 1)
    let project: (Tensor, Tensor, Tensor) throws -> Tensor
    switch threatModel.norm {
    case .lInf: project = LinfHyperplaneProjection.minimalSteps
    case .l2: project = L2HyperplaneProjection.minimalSteps
    case .l1: project = L1HyperplaneProjection.minimalSteps
    }
    for _ in 0..<iterations {
      let (f, gradient) = try boundary(x)
      let w = try gradient.flattened(from: 1)
      let flatX = try x.flattened(from: 1)
      // Steps d with <w, d> = r put a point on the linearised boundary <w, p + d> = <w, x> − f.
      let fromIterate = try -f
      let fromImage = try fromIterate + (try (try w * (try flatX - flatImages)).sum(dims: [1]))
      let steps = try project(try Tensor.cat([flatX, flatImages]), try Tensor.cat([w, w]),
                              try Tensor.cat([fromIterate, fromImage]))
      let stepFromIterate = try steps.slice(dim: 0, 0, n).reshaped(images.shape)
      let stepFromImage = try steps.slice(dim: 0, n, 2 * n).reshaped(images.shape)
      let lengths = try steps.norm(threatModel.norm.p, dims: [1]).clamped(min: 1e-8)
      let a1 = try lengths.slice(dim: 0, 0, n)
      let a2 = try lengths.slice(dim: 0, n, 2 * n)
      let alpha = try (a1 / (try a1 + a2)).clamped(min: 0, max: alphaMax).reshaped(rowShape(images))
      let towardsIterate = try (x + (try stepFromIterate * eta)) * (try 1 - alpha)
      let towardsImage = try (images + (try stepFromImage * eta)) * alpha
      x = try (try towardsIterate + towardsImage).clamped(min: 0, max: 1)

      let isAdversarial = try AttackSupport.misclassified(model, x, labels: labels)
      let distance = try threatModel.distance(x, images).to(.float32)
      let closer = try isAdversarial.logicalAnd(try distance .< bestDistance)
      best = try AttackSupport.choose(closer, x, best)
      bestDistance = try Tensor.where(closer, distance, bestDistance)
      x = try AttackSupport.choose(isAdversarial, try images + (try (try x - images) * beta), x)
    }
    return best
  }
}
