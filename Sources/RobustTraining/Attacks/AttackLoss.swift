import Torch

/// Per-sample losses that attacks maximise, each of shape (N).
public enum AttackLoss: String, Sendable {
  /// Cross-entropy of the true label.
  case crossEntropy = "CE"
  /// The Carlini–Wagner margin `max_{j≠y} z_j − z_y` (positive once misclassified).
  case margin = "CW"
  /// The difference-of-logits ratio of Croce & Hein (2020), invariant to shifts and scales of the logits.
  case dlr = "DLR"

  func callAsFunction(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    switch self {
    case .crossEntropy: return try Functional.crossEntropy(logits, labels, reduction: .none)
    case .margin: return try Self.margin(logits, labels)
    case .dlr: return try Self.dlr(logits, labels)
    }
  }

  static func trueLogit(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    try logits.gather(dim: 1, labels.unsqueezed(1)).squeezed(1)
  }

  /// The largest logit among the wrong classes.
  static func bestOtherLogit(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    let isTrue = try labels.oneHot(classes: logits.shape[1]).to(.bool)
    return try logits.maskedFill(isTrue, -.infinity).max(dims: [1])
  }

  static func margin(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    try bestOtherLogit(logits, labels) - trueLogit(logits, labels)
  }

  /// `−(z_y − max_{j≠y} z_j) / (z_π1 − z_π3)`, with π sorting the logits in decreasing order.
  static func dlr(_ logits: Tensor, _ labels: Tensor) throws -> Tensor {
    let classes = logits.shape[1]
    guard classes >= 3 else { throw AttackError.invalidInput("the DLR loss needs at least 3 classes, got \(classes)") }
    let sorted = try logits.sorted(dim: 1).values
    let spread = try (try sorted.select(dim: 1, classes - 1) - sorted.select(dim: 1, classes - 3)) + 1e-12
    return try (try margin(logits, labels)) / spread
  }

  /// The targeted DLR loss `−(z_y − z_t) / (z_π1 − (z_π3 + z_π4) / 2)`.
  static func targetedDLR(_ logits: Tensor, _ labels: Tensor, targets: Tensor) throws -> Tensor {
    let classes = logits.shape[1]
    guard classes >= 4 else {
      throw AttackError.invalidInput("the targeted DLR loss needs at least 4 classes, got \(classes)")
    }
    let sorted = try logits.sorted(dim: 1).values
    let third = try sorted.select(dim: 1, classes - 3)
    let fourth = try sorted.select(dim: 1, classes - 4)
    let spread = try (try sorted.select(dim: 1, classes - 1) - ((try third + fourth) * 0.5)) + 1e-12
    return try (try trueLogit(logits, targets) - trueLogit(logits, labels)) / spread
  }
}
