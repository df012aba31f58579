import Torch

extension TrainingStep {
  /// The step a configuration trains with: its method's objective (with beta, MART's repeated passes,
  /// AVmixup's labels), the training attack, AGR's clip and arithmetic path, the precision, and AWP on a
  /// proxy model when `awp` is on. The one place a step is assembled: the trainer, its CUDA graphs and
  /// `agr bench` all take their step from here.
  public convenience init(configuration c: TrainingConfiguration, model: any Classifier, optimizer: any Optimizer,
                          awpProxy: (() throws -> any Classifier)? = nil) throws
  {
    self.init(model: model, optimizer: optimizer, method: c.method, perturbation: c.perturbation,
              reconstruction: GradientReconstruction(clip: c.agrClip), beta: c.beta,
              cleanPassInTrainMode: c.cleanPassInTrainMode, precision: c.precision,
              objective: c.method.objective(for: c))
    reconstructionPath = c.reconstructionPath
    gradientAlignment = c.gradAlign.map { GradientAlignment(lambda: $0, epsilon: c.perturbation.epsilon) }
    // The step variations (methods that change the step), one line each.
    if c.awp == true {
      guard let awpProxy else { throw ConfigurationError(key: "awp", "needs a proxy model of the same architecture") }
      variation = try AdversarialWeightPerturbation(
        proxy: try awpProxy(), gamma: c.awpGamma ?? AdversarialWeightPerturbation.defaultGamma,
        proxyLearningRate: c.awpProxyLearningRate ?? AdversarialWeightPerturbation.defaultProxyLearningRate)
    }
  }
}
