import Foundation

/// An attack as data: which attack of the catalog ran, in which norm, at which radius, with how many steps of
/// which size. Reports and grid tables read this, never a display label.
public struct AttackSpecification: Codable, Equatable, Sendable {
  public var kind: AttackCatalog
  public var norm: String
  public var epsilon: Double
  /// Iterations, for the attacks that take a count (PGD, CW).
  public var steps: Int?
  public var stepSize: Double?

  public init(kind: AttackCatalog, norm: Norm, epsilon: Double, steps: Int? = nil, stepSize: Double? = nil) {
    self.kind = kind
    self.norm = norm.rawValue
    self.epsilon = epsilon
    self.steps = steps
    self.stepSize = stepSize
  }
}

/// A step size as people write it: "2/255" for a whole number of 255ths, else the number ("0.04").
public func stepSizeText(_ size: Double) -> String {
  let in255 = size * 255
  if in255 >= 0.5, abs(in255 - in255.rounded()) < 1e-9 { return "\(Int(in255.rounded()))/255" }
  return String(format: "%g", size)
}
