import CTorch

/// A TorchScript module (`torch.jit.script(model).save(path)`), loaded on the CPU with `torch::jit::load`.
/// Its parameters and buffers are `Tensor`s that share the module's storage: in-place updates reach the
/// module, and a tensor re-pointed with `assign` (a device move, channels-last) is what `forward` uses next.
public final class ScriptModule {
  private let handle: OpaquePointer

  /// A parameter or buffer with its `state_dict` name and the class name of the submodule that owns it.
  public struct NamedTensor {
    public let name: String
    public let ownerType: String
    public let tensor: Tensor
  }

  public let parameters: [NamedTensor]
  public let buffers: [NamedTensor]
  /// The handles of the parameters and buffers, in that order, as `forward` passes them: `assign` replaces
  /// the tensor behind a handle, never the handle, so they are gathered once.
  private let stateHandles: [OpaquePointer?]

  public init(contentsOf path: String) throws {
    var out: OpaquePointer?
    try check(ctorch_script_module_load(path, &out))
    guard let handle = out else { throw TorchError("libtorch returned no module") }
    self.handle = handle
    parameters = try Self.namedTensors(handle, CT_SCRIPT_PARAMETER)
    buffers = try Self.namedTensors(handle, CT_SCRIPT_BUFFER)
    stateHandles = (parameters + buffers).map { $0.tensor.handle }
  }

  deinit { ctorch_script_module_free(handle) }

  private static func namedTensors(_ handle: OpaquePointer, _ kind: ctorch_script_tensor_kind) throws -> [NamedTensor] {
    var count: Int64 = 0
    try check(ctorch_script_module_tensor_count(handle, kind, &count))
    return try (0..<count).map { i in
      var name = [CChar](repeating: 0, count: 4096)
      var owner = [CChar](repeating: 0, count: 1024)
      let tensor = try make { ctorch_script_module_tensor(handle, kind, i, &name, name.count, &owner, owner.count, $0) }
      return NamedTensor(name: String(cString: name), ownerType: String(cString: owner), tensor: tensor)
    }
  }

  /// `module.train(on)` on the module and all its submodules.
  public func setTraining(_ on: Bool) throws {
    try check(ctorch_script_module_set_training(handle, on ? 1 : 0))
  }

  /// A batch_norm or dropout whose training flag is a constant in the module's code, as tracing records
  /// it ("layer1.0.bn1 (BatchNorm2d) runs aten::batch_norm with training=True"); nil when there is none.
  public func frozenModeOperation() throws -> String? {
    try description { ctorch_script_module_frozen_mode(handle, $0, $1) }
  }

  /// A parameter listed under two names (tied weights): "b.weight is a.weight"; nil when there is none.
  public func sharedParameter() throws -> String? {
    try description { ctorch_script_module_shared_parameter(handle, $0, $1) }
  }

  /// A description the shim writes into a buffer; nil when it is empty.
  private func description(_ call: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws -> String? {
    var buffer = [CChar](repeating: 0, count: 1024)
    try check(buffer.withUnsafeMutableBufferPointer { call($0.baseAddress!, $0.count) })
    let text = String(cString: buffer)
    return text.isEmpty ? nil : text
  }

  /// `forward(images)`, which must return logits [batch, classes].
  public func forward(_ images: Tensor) throws -> Tensor {
    // the tensors live as long as self, which holds them in `parameters` and `buffers`
    try withExtendedLifetime((self, images)) {
      try stateHandles.withUnsafeBufferPointer { handles in
        try make { ctorch_script_module_forward(handle, handles.baseAddress, Int64(handles.count), images.handle, $0) }
      }
    }
  }
}
