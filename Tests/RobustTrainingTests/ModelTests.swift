import Testing

@testable import RobustTraining

/// Parameter counts, names and shapes of each model family against the PyTorch definitions
/// (shared/bench/torch_reference.py and the public AT code).
@Suite struct ModelTests {
  @Test func preActResNet18MatchesThePyTorchDefinition() throws {
    let model = try PreActResNet18(classCount: 10)
    let params = model.namedParameters()
    #expect(params.count == 56)
    #expect(model.parameterCount == 11_172_170)
    let names = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.shape) })
    #expect(names["conv1.weight"] == [64, 3, 3, 3])
    #expect(names["layer1.0.bn1.weight"] == [64])
    #expect(names["layer1.0.bn1.running_mean"] == [64])
    #expect(names["layer1.0.bn1.num_batches_tracked"] == [])
    #expect(names["layer2.0.shortcut.0.weight"] == [128, 64, 1, 1])
    #expect(names["layer1.0.shortcut.0.weight"] == nil)
    #expect(names["layer4.1.conv2.weight"] == [512, 512, 3, 3])
    #expect(names["bn.running_var"] == [512])
    #expect(names["linear.weight"] == [10, 512])
    #expect(names["linear.bias"] == [10])
    #expect(model.stateDict().count == 56 + 17 * 3)
    #expect(params.first?.name == "conv1.weight")
    #expect(params.last?.name == "linear.bias")
  }

  @Test func preActResNet18ForwardShapesForAnyClassCount() throws {
    for classes in [10, 100, 200] {
      let model = try PreActResNet18(classCount: classes)
      model.eval()
      let logits = try model(try Tensor.rand([2, 3, 32, 32]))
      #expect(logits.shape == [2, classes])
    }
    // Tiny ImageNet inputs are 64x64: adaptive pooling makes the head size-independent.
    let tiny = try PreActResNet18(classCount: 200)
    #expect(try tiny(try Tensor.rand([2, 3, 64, 64])).shape == [2, 200])
  }

  @Test func wideResNet34x10MatchesThePyTorchDefinition() throws {
    let model = try WideResNet(depth: 34, widenFactor: 10, classCount: 10)
    let params = model.namedParameters()
    #expect(params.count == 98)
    #expect(model.parameterCount == 46_160_474)
    let names = Dictionary(uniqueKeysWithValues: model.stateDict().map { ($0.name, $0.tensor.shape) })
    #expect(names["conv1.weight"] == [16, 3, 3, 3])
    #expect(names["block1.layer.0.bn1.weight"] == [16])
    #expect(names["block1.layer.0.convShortcut.weight"] == [160, 16, 1, 1])
    #expect(names["block1.layer.1.convShortcut.weight"] == nil)
    #expect(names["block3.layer.4.conv2.weight"] == [640, 640, 3, 3])
    #expect(names["bn1.num_batches_tracked"] == [])
    #expect(names["linear.weight"] == [10, 640])
  }

  @Test func smallWideResNetRuns() throws {
    let model = try WideResNet(depth: 10, widenFactor: 1, classCount: 100)
    #expect(try model(try Tensor.rand([2, 3, 32, 32])).shape == [2, 100])
    #expect(throws: TorchError.self) { try WideResNet(depth: 33) }
  }

  @Test func resNet18NamesAndCount() throws {
    let model = try ResNet18(classCount: 10)
    #expect(model.parameterCount == 11_173_962)
    let names = Set(model.stateDict().map(\.name))
    #expect(names.contains("layer2.0.shortcut.0.weight"))
    #expect(names.contains("layer2.0.shortcut.1.running_mean"))
    #expect(names.contains("bn1.weight"))
    #expect(try model(try Tensor.rand([2, 3, 32, 32])).shape == [2, 10])
  }

  @Test func smallCNNNamesCountAndShape() throws {
    let model = try SmallCNN(classCount: 10)
    let names = model.namedParameters().map(\.name)
    #expect(names == [
      "feature_extractor.conv1.weight", "feature_extractor.conv1.bias", "feature_extractor.conv2.weight",
      "feature_extractor.conv2.bias", "feature_extractor.conv3.weight", "feature_extractor.conv3.bias",
      "feature_extractor.conv4.weight", "feature_extractor.conv4.bias", "classifier.fc1.weight",
      "classifier.fc1.bias", "classifier.fc2.weight", "classifier.fc2.bias", "classifier.fc3.weight",
      "classifier.fc3.bias",
    ])
    // 320 + 9248 + 18496 + 36928 + 205000 + 40200 + 2010
    #expect(model.parameterCount == 312_202)
    #expect(try model(try Tensor.rand([3, 1, 28, 28])).shape == [3, 10])
  }

  @Test func smallCNNSizesItsFirstDenseLayerByInputSize() throws {
    // 32x32 -> 30, 28, pool 14, 12, 10, pool 5: 64 * 5 * 5 features; 64x64 -> 64 * 13 * 13.
    let cifar = try ModelArchitecture.smallCNN.make(classCount: 10, inputChannels: 3, imageSize: 32)
    #expect(try cifar(try Tensor.rand([2, 3, 32, 32])).shape == [2, 10])
    #expect(cifar.namedParameters().first { $0.name == "classifier.fc1.weight" }?.tensor.shape == [200, 1600])
    let tiny = try ModelArchitecture.smallCNN.make(classCount: 200, inputChannels: 3, imageSize: 64)
    #expect(try tiny(try Tensor.rand([1, 3, 64, 64])).shape == [1, 200])
    #expect(throws: TorchError.self) { _ = try SmallCNN(inputSize: 12) }
  }

  @Test func trainAndEvalModeReachEveryModule() throws {
    let model = try PreActResNet18()
    model.eval()
    #expect(model.allModules().allSatisfy { !$0.isTraining })
    model.train()
    #expect(model.allModules().allSatisfy { $0.isTraining })
    model.withMode(training: false) {
      #expect(model.allModules().allSatisfy { !$0.isTraining })
    }
    #expect(model.allModules().allSatisfy { $0.isTraining })
  }

  @Test func batchNormStatisticsMoveOnlyInTrainingMode() throws {
    let bn = try BatchNorm2d(2)
    let x = try Tensor([1, 3, 5, 7, 2, 2, 2, 2] as [Float], shape: [2, 2, 1, 2])
    bn.eval()
    _ = try bn(x)
    #expect(try bn.runningMean.toArray(Float.self) == [0, 0])
    #expect(try bn.batchesTracked.item() == 0)
    bn.train()
    _ = try bn(x)
    // channel 0 holds 1, 3, 2, 2 (mean 2), channel 1 holds 5, 7, 2, 2 (mean 4); momentum 0.1
    let mean = try bn.runningMean.toArray(Float.self)
    #expect(abs(mean[0] - 0.2) < 1e-6 && abs(mean[1] - 0.4) < 1e-6)
    #expect(try bn.batchesTracked.item() == 1)
  }

  @Test func defaultInitialisationBounds() throws {
    let conv = try Conv2d(16, 8, kernelSize: 3)
    let bound = 1 / Float(16 * 9).squareRoot()
    let w = try conv.weight.toArray(Float.self)
    #expect(w.allSatisfy { abs($0) <= bound })
    #expect(w.max()! > bound * 0.9)  // spread over the whole interval
    let bn = try BatchNorm2d(4)
    #expect(try bn.weight.toArray(Float.self) == [1, 1, 1, 1])
    #expect(try bn.bias.toArray(Float.self) == [0, 0, 0, 0])
  }

  @Test func inputNormalizationLivesInsideTheModel() throws {
    let plain = try SmallCNN(inputChannels: 1)
    let normalized = try SmallCNN(inputChannels: 1, normalization: InputNormalization(mean: [0.5], std: [0.25]))
    // same weights in both
    try Autograd.withNoGrad {
      for (a, b) in zip(plain.parameters, normalized.parameters) { try b.copy_(a) }
    }
    plain.eval()
    normalized.eval()
    let x = try Tensor.rand([2, 1, 28, 28])
    let expected = try plain(try (x - 0.5) / 0.25)
    #expect(try normalized(x).allClose(expected, atol: 1e-5))
    #expect(normalized.stateDict().count == plain.stateDict().count)
  }

  /// channels-last weights and inputs, and bf16 autocast, give the fp32 contiguous result
  /// (exactly resp. within bf16 rounding) for each 32x32 model family.
  @Test func channelsLastAndBF16AutocastWork() throws {
    Torch.manualSeed(5)
    for model in [try PreActResNet18() as any Classifier, try WideResNet(depth: 10, widenFactor: 2)] {
      model.eval()
      let x = try Tensor.rand([1, 3, 32, 32])
      let reference = try Autograd.withNoGrad { try model(x) }
      try model.move(to: .cpu, memoryFormat: .channelsLast)
      #expect(model.namedParameters().filter { $0.tensor.rank == 4 }.allSatisfy { $0.tensor.isContiguous(.channelsLast) })
      let last = try Autograd.withNoGrad { try model(try x.contiguous(.channelsLast)) }
      #expect(try last.allClose(reference, rtol: 1e-4, atol: 1e-4))
      let mixed = try Autograd.withNoGrad { try Torch.withAutocast(device: .cpu, dtype: .bfloat16) { try model(x) } }
      #expect(mixed.dtype == .bfloat16)
      let error = try (try mixed.to(.float32) - reference).abs().max().item()
      let scale = try reference.abs().max().item()
      #expect(error <= 0.05 * max(scale, 1), "bf16 error \(error) vs scale \(scale)")
    }
  }
}
