// TorchScript modules: loaded with torch::jit::load, their parameters and buffers shared with Swift as tensor
// handles, their train/eval switch and forward pass.
#include "shim.h"
#include <torch/csrc/jit/runtime/graph_executor.h>
#include <torch/script.h>
#include <cstdio>
#include <cstring>
#include <map>

using namespace ctorch;

namespace {

// Where a parameter or buffer lives: the object of the submodule that owns it and the attribute's slot.
struct Slot {
  c10::intrusive_ptr<c10::ivalue::Object> object;
  size_t index;
};

struct NamedTensor {
  std::string name;
  std::string owner_type;  // the owning submodule's class name, e.g. "Conv2d"
  Slot slot;
};

struct ScriptModule {
  torch::jit::Module module;
  std::vector<NamedTensor> parameters, buffers;
};

ScriptModule &S(ctorch_script_module m) {
  if (!m) throw std::invalid_argument("null script module handle");
  return *reinterpret_cast<ScriptModule *>(m);
}

// "__torch__.torch.nn.modules.conv.___torch_mangle_5.Conv2d" -> "Conv2d"
std::string class_name(const torch::jit::Module &module) {
  auto qualified = module.type()->name() ? module.type()->name()->qualifiedName() : std::string("?");
  auto dot = qualified.rfind('.');
  return dot == std::string::npos ? qualified : qualified.substr(dot + 1);
}

std::vector<NamedTensor> named_tensors(const torch::jit::Module &root, bool buffers) {
  std::vector<NamedTensor> out;
  for (const auto &sub : root.named_modules()) {
    auto object = sub.value._ivalue();
    const auto &type = object->type();
    for (size_t i = 0; i < type->numAttributes(); i++) {
      bool wanted = buffers ? type->is_buffer(i) : type->is_parameter(i);
      if (!wanted || !object->getSlot(i).isTensor()) continue;
      auto prefix = sub.name.empty() ? std::string() : sub.name + ".";
      out.push_back({prefix + type->getAttributeName(i), class_name(sub.value), {object, i}});
    }
  }
  return out;
}

void copy_string(const std::string &text, char *buf, size_t cap) {
  if (text.size() + 1 > cap) throw std::invalid_argument("name longer than " + std::to_string(cap - 1) + " bytes: " + text);
  std::memcpy(buf, text.c_str(), text.size() + 1);
}

// The first batch_norm or dropout whose training flag is a constant in the graph (tracing records it so).
std::string frozen_mode(const torch::jit::Block *block) {
  for (const auto *node : block->nodes()) {
    for (const auto *inner : node->blocks()) {
      auto found = frozen_mode(inner);
      if (!found.empty()) return found;
    }
    int flag = -1;
    auto kind = node->kind();
    if (kind == c10::aten::batch_norm || kind == c10::aten::instance_norm) flag = 5;
    if (kind == c10::aten::dropout || kind == c10::aten::feature_dropout || kind == c10::aten::alpha_dropout) flag = 2;
    if (flag < 0 || node->inputs().size() <= static_cast<size_t>(flag)) continue;
    auto constant = torch::jit::toIValue(node->input(flag));
    if (constant && constant->isBool()) return std::string(kind.toQualString()) + " with training=" + (constant->toBool() ? "True" : "False");
  }
  return "";
}

}  // namespace

extern "C" {

int ctorch_script_module_load(const char *path, ctorch_script_module *out) {
  CT_TRY({
    auto made = std::make_unique<ScriptModule>();
    made->module = torch::jit::load(path, c10::Device(c10::kCPU));
    made->parameters = named_tensors(made->module, false);
    made->buffers = named_tensors(made->module, true);
    *out = reinterpret_cast<ctorch_script_module>(made.release());
  })
}

void ctorch_script_module_free(ctorch_script_module m) { delete reinterpret_cast<ScriptModule *>(m); }

int ctorch_script_module_tensor_count(ctorch_script_module m, ctorch_script_tensor_kind kind, int64_t *out) {
  CT_TRY({
    auto &s = S(m);
    *out = static_cast<int64_t>(kind == CT_SCRIPT_BUFFER ? s.buffers.size() : s.parameters.size());
  })
}

int ctorch_script_module_tensor(ctorch_script_module m, ctorch_script_tensor_kind kind, int64_t i, char *name,
                                size_t name_cap, char *owner_type, size_t owner_cap, ctorch_tensor *out) {
  CT_TRY({
    auto &list = kind == CT_SCRIPT_BUFFER ? S(m).buffers : S(m).parameters;
    if (i < 0 || i >= static_cast<int64_t>(list.size())) throw std::out_of_range("script module tensor index " + std::to_string(i));
    const auto &entry = list[i];
    copy_string(entry.name, name, name_cap);
    copy_string(entry.owner_type, owner_type, owner_cap);
    *out = wrap(entry.slot.object->getSlot(entry.slot.index).toTensor());
  })
}

int ctorch_script_module_set_training(ctorch_script_module m, int on) { CT_TRY(S(m).module.train(on != 0)) }

int ctorch_script_module_frozen_mode(ctorch_script_module m, char *buf, size_t cap) {
  CT_TRY({
    std::string found;
    for (const auto &sub : S(m).module.named_modules()) {
      for (const auto &method : sub.value.get_methods()) {
        found = frozen_mode(method.graph()->block());
        if (found.empty()) continue;
        auto where = sub.name.empty() ? std::string("the top module") : sub.name;
        found = where + " (" + class_name(sub.value) + ") runs " + found;
        break;
      }
      if (!found.empty()) break;
    }
    std::snprintf(buf, cap, "%s", found.c_str());
  })
}

int ctorch_script_module_shared_parameter(ctorch_script_module m, char *buf, size_t cap) {
  CT_TRY({
    std::string found;
    std::map<c10::TensorImpl *, std::string> seen;
    for (const auto &entry : S(m).parameters) {
      auto impl = entry.slot.object->getSlot(entry.slot.index).toTensor().unsafeGetTensorImpl();
      auto first = seen.emplace(impl, entry.name);
      if (!first.second) {
        found = entry.name + " is " + first.first->second;
        break;
      }
    }
    std::snprintf(buf, cap, "%s", found.c_str());
  })
}

int ctorch_script_module_forward(ctorch_script_module m, const ctorch_tensor *state, int64_t n, ctorch_tensor input,
                                 ctorch_tensor *out) {
  CT_TRY({
    auto &s = S(m);
    if (n != static_cast<int64_t>(s.parameters.size() + s.buffers.size()))
      throw std::invalid_argument("script module forward: " + std::to_string(n) + " state tensors given, the module has " +
                                  std::to_string(s.parameters.size() + s.buffers.size()));
    // A handle may have been pointed at another tensor (a device move, channels-last): the module follows.
    int64_t i = 0;
    for (auto *list : {&s.parameters, &s.buffers}) {
      for (auto &entry : *list) {
        auto &given = T(state[i++]);
        const auto &current = entry.slot.object->getSlot(entry.slot.index);
        if (!current.isTensor() || current.unsafeToTensorImpl() != given.unsafeGetTensorImpl())
          entry.slot.object->setSlot(entry.slot.index, given);
      }
    }
    auto &images = T(input);
    // The plain interpreter: every operation dispatched as in eager mode (autograd, autocast), no profiling
    // runs and no fused or differentiable subgraphs whose gradients would differ from ATen's formulas.
    torch::jit::GraphOptimizerEnabledGuard plain(false);
    auto result = s.module.forward({images});
    if (!result.isTensor())
      throw std::invalid_argument("forward returned " + std::string(result.tagKind()) + ", not a tensor of logits");
    auto logits = result.toTensor();
    if (logits.dim() != 2 || (images.dim() > 0 && logits.size(0) != images.size(0))) {
      std::ostringstream shape;
      shape << logits.sizes();
      throw std::invalid_argument("forward returned a tensor of shape " + shape.str() + " for a batch of " +
                                  std::to_string(images.dim() > 0 ? images.size(0) : 0) + " images, not logits [batch, classes]");
    }
    *out = wrap(logits);
  })
}

}  // extern "C"
