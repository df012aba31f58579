import Torch

/// The loop every PGD here runs: the evaluation attack (`PGD`, and CW-inf through it) and the training
/// attacks (`TrainingPerturbation`). From a start point it takes `steps` steps: the input gradient of an
/// objective at the iterate, a step of `stepSize` along the threat model's steepest-ascent direction, and
/// the `update` back into the threat model. Parameters' gradients are never touched.
struct GradientAscent {
  /// How a step returns into the threat model. The two give the same point up to float rounding.
  enum Update {
    /// `x + stepSize * d`, then onto the ball around the image and into [0, 1] (`ThreatModel.project`):
    /// the form of Madry et al., AutoAttack and the TRADES attack.
    case projected
    /// The offset from the image stepped and clipped to [-eps, eps], then added to the image and
    /// clipped to [0, 1]: the form of `shared/bench/torch_reference.py`'s training attack. L-inf only.
    case offset
    /// The AGR authors' `attack.py`: `x + stepSize * d`, its offset from the image clipped to [-eps, eps] and
    /// added back, with no clipping to [0, 1] (their `clamp(0., 1.).detach_()` discards its result); the
    /// caller clips the last iterate. L-inf only.
    case offsetUnclipped
    /// `x + stepSize * sign(g)` clipped to [0, 1] only, with no projection onto the ball: N-FGSM's step
    /// (de Jorge et al. 2022). L-inf only.
    case unitBox
  }

  let threatModel: ThreatModel
  let stepSize: Double
  let update: Update

  /// One step from `x` along `gradient`.
  func step(_ x: Tensor, gradient: Tensor, images: Tensor) throws -> Tensor {
    switch update {
    case .projected:
      return try threatModel.project(try x + (try threatModel.steepestAscentStep(gradient) * stepSize), around: images)
    case .offset:
      guard threatModel.norm == .lInf else { throw AttackError.invalidParameter("the offset update is L-inf only") }
      let epsilon = threatModel.epsilon
      let offset = try (try x - images).adding(try gradient.sign(), scaledBy: stepSize).clamped(min: -epsilon, max: epsilon)
      return try (try images + offset).clamped(min: 0, max: 1)
    case .offsetUnclipped:
      guard threatModel.norm == .lInf else { throw AttackError.invalidParameter("the offset update is L-inf only") }
      let epsilon = threatModel.epsilon
      let moved = try x + (try gradient.sign() * stepSize)
      return try images + (try (try moved - images).clamped(min: -epsilon, max: epsilon))
    case .unitBox:
      guard threatModel.norm == .lInf else { throw AttackError.invalidParameter("the unit-box update is L-inf only") }
      return try x.adding(try gradient.sign(), scaledBy: stepSize).clamped(min: 0, max: 1)
    }
  }

  /// Runs `steps` steps from `start` and returns the last iterate (detached). `objective` maps logits to
  /// per-sample values (whose sum is climbed) or to one scalar. `visit`, when given, also sees the start
  /// and every iterate with its step index, logits and objective values (detached), after the last step
  /// too, and may end the loop early by returning true.
  func run(_ model: any Classifier, images: Tensor, from start: Tensor, steps: Int, objective: (Tensor) throws -> Tensor,
           visit: ((_ step: Int, _ x: Tensor, _ logits: Tensor, _ value: Tensor) throws -> Bool)? = nil) throws -> Tensor
  {
    var x = start
    for step in 0...steps {
      if step == steps && visit == nil { break }
      let (logits, value, gradient) = try AttackSupport.lossAndGradient(model, at: x, loss: objective)
      if let visit, try visit(step, x, logits, value) { break }
      if step == steps { break }
      x = try self.step(x, gradient: gradient, images: images)
    }
    return try x.detached()
  }
}
