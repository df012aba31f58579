import Torch

/// Which parameters weight decay applies to (PyTorch's parameter groups, for the case studied most).
public enum WeightDecayScope: String, Codable, CaseIterable, Sendable {
  /// Every parameter (`torch.optim`'s default, and the public AT code's).
  case all
  /// Convolution and linear weights only: no decay on BatchNorm's scales and shifts or on biases, the tensors
  /// of one dimension or none (the rule of timm and of the Bag-of-Tricks study).
  case weights

  public var summary: String {
    self == .all ? "every parameter" : "not on BatchNorm and biases"
  }

  /// The weight decay of each of `parameters` under this scope.
  public func decays(_ parameters: [Tensor], weightDecay: Double) -> [Double] {
    parameters.map { self == .all || $0.rank > 1 ? weightDecay : 0 }
  }
}

/// Indices of `values` grouped by equal value, in first-seen order (one multi-tensor call per group).
func groupedIndices(_ indices: [Int], by values: [Double]) -> [(value: Double, indices: [Int])] {
  var groups: [(value: Double, indices: [Int])] = []
  for i in indices {
    if let g = groups.firstIndex(where: { $0.value == values[i] }) {
      groups[g].indices.append(i)
    } else {
      groups.append((values[i], [i]))
    }
  }
  return groups
}
