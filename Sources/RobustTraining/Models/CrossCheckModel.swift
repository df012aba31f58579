import Torch

extension ModelArchitecture {
  /// A model whose logits are worth comparing with another implementation's: BatchNorm running statistics
  /// moved off their initial values (three train-mode passes on uniform noise of `warmUpBatch` images), so
  /// that eval mode matters, and SmallCNN given random weights (its zero-initialised last layer would make
  /// every logit 0). Returned in eval mode, on the CPU.
  public func makeForCrossCheck(classCount: Int, inputChannels: Int, imageSize: Int, warmUpBatch: Int = 8) throws
    -> any Classifier
  {
    let model = try make(classCount: classCount, inputChannels: inputChannels, imageSize: imageSize)
    try Autograd.withNoGrad {
      model.train()
      for _ in 0..<3 { _ = try model(try Tensor.rand([warmUpBatch, inputChannels, imageSize, imageSize])) }
      if self == .smallCNN {
        for p in model.parameters { try p.copy_(try Tensor.randn(p.shape) * 0.1) }
      }
    }
    model.eval()
    return model
  }
}
