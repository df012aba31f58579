import Foundation

/// A reason not to trust an evaluation's numbers, found by `EvaluationCheck`, with what it means.
public struct EvaluationWarning: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, CaseIterable, Sendable {
    /// Two identical forward passes gave different outputs: the model is randomised.
    case randomizedOutputs = "randomized-outputs"
    /// The rand version ran on a model whose outputs do not change between passes.
    case randNotNeeded = "rand-not-needed"
    /// The outputs' rows are non-negative and sum to 1: the model returns probabilities, not logits.
    case probabilityOutputs = "probability-outputs"
    /// Inputs outside [0, 1].
    case inputsOutOfRange = "inputs-out-of-range"
    /// A share of the input gradients is exactly zero.
    case zeroGradients = "zero-gradients"
    /// A targeted attack asks for more target classes than the model has other classes.
    case fewClasses = "few-classes"
    /// The black-box Square broke points the white-box attacks before it did not.
    case gradientMasking = "gradient-masking"
  }

  public var kind: Kind
  /// What was found.
  public var finding: String
  /// What it means for the numbers, and what to do.
  public var meaning: String

  public init(_ kind: Kind, finding: String, meaning: String) {
    self.kind = kind
    self.finding = finding
    self.meaning = meaning
  }

  /// "finding: meaning", as `agr eval` prints it.
  public var text: String { "\(finding): \(meaning)" }
}
