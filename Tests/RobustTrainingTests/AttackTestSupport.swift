import Testing
@testable import RobustTraining

/// A one-hidden-layer perceptron over 1×6×6 images, small enough to train inside a test.
final class TinyAttackMLP: Classifier {
  var isTraining = true
  let hiddenWeight: Tensor, hiddenBias: Tensor, outputWeight: Tensor, outputBias: Tensor
  /// The training flag seen by each forward pass (to check that attacks run in eval mode).
  var modesSeen: [Bool] = []

  var classCount: Int { outputBias.shape[0] }

  init(_ tensors: [Tensor]) throws {
    (hiddenWeight, hiddenBias, outputWeight, outputBias) = (tensors[0], tensors[1], tensors[2], tensors[3])
    for t in tensors { try t.requiresGrad(true) }
  }

  var ownParameters: [(name: String, tensor: Tensor)] {
    [("fc1.weight", hiddenWeight), ("fc1.bias", hiddenBias), ("fc2.weight", outputWeight), ("fc2.bias", outputBias)]
  }

  func callAsFunction(_ images: Tensor) throws -> Tensor {
    modesSeen.append(isTraining)
    let hidden = try Functional.linear(images.flattened(from: 1), weight: hiddenWeight, bias: hiddenBias).relu()
    return try Functional.linear(hidden, weight: outputWeight, bias: outputBias)
  }
}

/// A synthetic, separable 5-class problem and a small MLP trained on it (deterministic seeds).
enum AttackFixture {
  static let classes = 5
  static let side = 6

  /// Gaussian blobs around random class means in [0.2, 0.8], clipped to [0, 1].
  static func data(count: Int, seed: UInt64) throws -> (images: Tensor, labels: Tensor) {
    let meansGenerator = try Generator(seed: 7)
    let means = try Tensor.uniform([classes, 1, side, side], low: 0.2, high: 0.8, generator: meansGenerator)
    let generator = try Generator(seed: seed)
    let labels = try Tensor.randint(0, classes, [count], generator: generator)
    let noise = try Tensor.randn([count, 1, side, side], generator: generator) * 0.12
    let images = try (try means.indexed(by: labels) + noise).clamped(min: 0, max: 1)
    return (images, labels)
  }

  static let trainedWeights: [Tensor] = {
    do { return try train() } catch { fatalError("training the attack test model failed: \(error)") }
  }()

  private static func train() throws -> [Tensor] {
    let generator = try Generator(seed: 1)
    let inputs = side * side
    let hidden = 32
    let weights = [
      try Tensor.randn([hidden, inputs], generator: generator) * (1 / Double(inputs).squareRoot()),
      try Tensor.zeros([hidden]),
      try Tensor.randn([classes, hidden], generator: generator) * (1 / Double(hidden).squareRoot()),
      try Tensor.zeros([classes]),
    ]
    let model = try TinyAttackMLP(weights)
    let (images, labels) = try data(count: 1000, seed: 2)
    for _ in 0..<300 {
      let loss = try Functional.crossEntropy(try model(images), labels)
      let gradients = try Autograd.gradients(of: loss, wrt: model.parameters)
      try Autograd.withNoGrad {
        for (p, g) in zip(model.parameters, gradients) { try p.add_(g, alpha: -0.5) }
      }
    }
    return try weights.map { try $0.detached().clone() }
  }

  /// A fresh copy of the trained model, in training mode.
  static func model() throws -> TinyAttackMLP {
    try TinyAttackMLP(try trainedWeights.map { try $0.clone() })
  }

  /// Held-out points.
  static func testSet(count: Int = 64) throws -> (images: Tensor, labels: Tensor) {
    try data(count: count, seed: 3)
  }

  static let epsilon = 0.14

  static func accuracy(_ model: any Classifier, _ images: Tensor, _ labels: Tensor) throws -> Double {
    let correct = try model.withMode(training: false) {
      try Autograd.withNoGrad { try model(images).argmax(dim: 1) .== labels }
    }
    return try correct.to(.float32).mean().item()
  }

  static func robustFlags(_ model: any Classifier, _ images: Tensor, _ labels: Tensor) throws -> [Bool] {
    try model.withMode(training: false) {
      try Autograd.withNoGrad { try model(images).argmax(dim: 1) .== labels }
    }.toArray(Bool.self)
  }

  /// Radii of the L2 and L1 threat models on the fixture's 36-value images. L2: the L-inf ball's corner radius
  /// (6 eps), where Square's L2 search, made for images of 32 x 32 and more (its windows cover most of a 6 x 6
  /// image), still breaks some points; L1: 12 eps.
  static let l2Epsilon = epsilon * 6
  static let l1Epsilon = epsilon * 12

  /// Every attack in the library in every norm it has, with budgets cut down for the CPU test suite.
  static func quickAttacks(epsilon: Double = epsilon) throws -> [any Attack] {
    try quickAttacks(.lInf, epsilon: epsilon) + quickAttacks(.l2, epsilon: epsilon * 6) + quickAttacks(.l1, epsilon: epsilon * 12)
  }

  /// The attacks of one norm.
  static func quickAttacks(_ norm: Norm, epsilon: Double) throws -> [any Attack] {
    let threat = try ThreatModel(norm: norm, epsilon: epsilon)
    var attacks: [any Attack] = [
      FGSM(threatModel: threat),
      try PGD(threatModel: threat, steps: 10),
      try APGD(threatModel: threat, iterations: 20),
      try APGD(threatModel: threat, loss: .dlr, iterations: 10, eotIterations: 2),
      try APGDTargeted(threatModel: threat, iterations: 10, targetClasses: 3),
      try AutoAttack.apgdPair(threatModel: threat, iterations: 10),
      try AutoAttack.rand(threatModel: threat, iterations: 5, eotIterations: 2),
    ]
    switch norm {
    case .lInf, .l2:
      attacks += [
        try FABTargeted(threatModel: threat, iterations: 20, targetClasses: 3),
        try FABUntargeted(threatModel: threat, iterations: 10, restarts: 2),
        try Square(threatModel: threat, queries: 200),
        try AutoAttack.standard(threatModel: threat, iterations: 10, squareQueries: 100),
        try AutoAttack.plus(threatModel: threat, iterations: 5, squareQueries: 50),
      ]
      if norm == .lInf { attacks.append(try CWInf(epsilon: epsilon, steps: 10)) }
    case .l1:
      attacks += [
        try FABTargeted(threatModel: threat, iterations: 20, targetClasses: 3),
        try FABUntargeted(threatModel: threat, iterations: 10, restarts: 2),
        try Square(threatModel: threat, queries: 200),
        try APGD(threatModel: threat, iterations: 20, largerEpsilons: true),
        try APGDTargeted(threatModel: threat, iterations: 10, targetClasses: 3, largerEpsilons: true),
        try AutoAttack.standard(threatModel: threat, iterations: 10, squareQueries: 100),
      ]
    }
    return attacks
  }
}
