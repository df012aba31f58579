import Torch

/// The "CW∞" evaluation of adversarial-training papers: L-inf PGD on the Carlini–Wagner margin
/// loss `max_{j≠y} z_j − z_y` (with the usual confidence κ large enough never to clip it),
/// by default 20 steps of size epsilon / 4.
public struct CWInf: Attack {
  public let pgd: PGD
  public var threatModel: ThreatModel { pgd.threatModel }
  public var name: String { pgd.name }

  public init(epsilon: Double, steps: Int = 20, stepSize: Double? = nil, restarts: Int = 1, seed: UInt64 = 0) throws {
    pgd = try PGD(threatModel: try .lInf(epsilon), steps: steps, stepSize: stepSize ?? epsilon / 4, restarts: restarts,
                  loss: .margin, seed: seed, name: "CW-inf-\(steps)")
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try pgd.perturb(model, images: images, labels: labels)
  }
}
