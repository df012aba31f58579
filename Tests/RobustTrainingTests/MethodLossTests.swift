import Foundation
import Testing

@testable import RobustTraining

/// Each method's loss against values computed by hand from its formula.
@Suite struct MethodLossTests {
  let clean = try! Tensor([1.0, 0.0], shape: [1, 2])
  let adversarial = try! Tensor([0.0, 1.0], shape: [1, 2])
  let labels = try! Tensor([Int64(0)])

  func softmax(_ z: [Double]) -> [Double] {
    let e = z.map { Foundation.exp($0) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  @Test func standardAndAT() throws {
    let ce = { (z: [Double]) in -Foundation.log(self.softmax(z)[0]) }
    let standard = try MethodLoss.loss(.standard, cleanLogits: clean, adversarialLogits: nil, labels: labels, beta: 6)
    #expect(abs(try standard.item() - ce([1, 0])) < 1e-12)
    let at = try MethodLoss.loss(.at, cleanLogits: nil, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try at.item() - ce([0, 1])) < 1e-12)
    #expect(throws: TorchError.self) {
      try MethodLoss.loss(.at, cleanLogits: clean, adversarialLogits: nil, labels: labels, beta: 6)
    }
  }

  @Test func trades() throws {
    let p = softmax([1, 0])
    let q = softmax([0, 1])
    let kl = zip(p, q).map { $0 * Foundation.log($0 / $1) }.reduce(0, +)
    let expected = -Foundation.log(p[0]) + 6 * kl
    let got = try MethodLoss.loss(.trades, cleanLogits: clean, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try got.item() - expected) < 1e-10)
    #expect(abs(expected - 3.0859649) < 1e-6)  // ln(1 + 1/e) + 6 * (p0 - p1), worked by hand
  }

  @Test func mart() throws {
    let p = softmax([1, 0])  // clean
    let q = softmax([0, 1])  // adversarial; the most likely class (1) is wrong, so y' = 1
    let boosted = -Foundation.log(q[0]) - Foundation.log(1.0001 - q[1] + 1e-12)
    let kl = zip(p, q).map { $0 * (Foundation.log($0) - Foundation.log($1 + 1e-12)) }.reduce(0, +)
    let expected = boosted + 6 * kl * (1.0000001 - p[0])
    let got = try MethodLoss.loss(.mart, cleanLogits: clean, adversarialLogits: adversarial, labels: labels, beta: 6)
    #expect(abs(try got.item() - expected) < 1e-9)
  }

  @Test func martPicksTheSecondClassWhenTheTopOneIsTrue() throws {
    // adversarial prediction still correct: y' is the runner-up (class 2 here)
    let adv = try Tensor([3.0, 0.0, 1.0], shape: [1, 3])
    let cln = try Tensor([2.0, 0.0, 0.0], shape: [1, 3])
    let q = softmax([3, 0, 1])
    let p = softmax([2, 0, 0])
    let boosted = -Foundation.log(q[0]) - Foundation.log(1.0001 - q[2] + 1e-12)
    let kl = zip(p, q).map { $0 * (Foundation.log($0) - Foundation.log($1 + 1e-12)) }.reduce(0, +)
    let expected = boosted + 2 * kl * (1.0000001 - p[0])
    let got = try MethodLoss.loss(.mart, cleanLogits: cln, adversarialLogits: adv, labels: labels, beta: 2)
    #expect(abs(try got.item() - expected) < 1e-9)
  }
}
