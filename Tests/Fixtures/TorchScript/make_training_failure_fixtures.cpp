// Writes the TorchScript fixtures of the model-file training check, with libtorch's C++ API alone (no Python):
//   c++ -std=c++17 -D_GLIBCXX_USE_CXX11_ABI=1 -I.libtorch/include -I.libtorch/include/torch/csrc/api/include \
//     Tests/Fixtures/TorchScript/make_training_failure_fixtures.cpp -L.libtorch/lib -ltorch_cpu -lc10 \
//     -Wl,-rpath,$PWD/.libtorch/lib -o /tmp/make_fixtures && /tmp/make_fixtures Tests/Fixtures/TorchScript
// Each module gives logits [batch, 10] for 1x28x28 images in eval mode, so it loads, but fails in training:
//   train_mode_shape.pt  in train mode forward returns features [batch, 16] instead of the logits
//   integer_logits.pt    forward returns integer logits (no gradient flows through them)
//   detached_logits.pt   forward returns logits detached from the parameters
//   no_parameters.pt     no parameters at all (nothing to train)
#include <torch/script.h>
#include <torch/torch.h>

static torch::jit::Module module(const std::string &name, int inputs, const std::string &forward) {
  torch::jit::Module m("__torch__." + name);
  m.register_attribute("training", c10::BoolType::get(), true);
  if (inputs > 0) {
    m.register_parameter("weight", torch::randn({10, inputs}) * 0.1, false);
    m.register_parameter("bias", torch::zeros({10}), false);
  }
  m.define(forward);
  return m;
}

int main(int argc, char **argv) {
  std::string folder = argc > 1 ? argv[1] : ".";
  torch::manual_seed(23);
  auto shape = module("TrainModeShape", 16, R"(
def forward(self, x):
    features = x.flatten(1)[:, :16]
    if self.training:
        return features
    return torch.linear(features, self.weight, self.bias)
)");
  auto integer = module("IntegerLogits", 1, R"(
def forward(self, x):
    return (torch.linear(x.mean([2, 3]), self.weight, self.bias) * 100).long()
)");
  auto detached = module("DetachedLogits", 1, R"(
def forward(self, x):
    return torch.linear(x.mean([2, 3]), self.weight, self.bias).detach()
)");
  auto none = module("NoParameters", 0, R"(
def forward(self, x):
    return x.mean([2, 3]).repeat(1, 10)
)");
  for (auto &[name, m] : std::vector<std::pair<std::string, torch::jit::Module>>{
         {"train_mode_shape", shape}, {"integer_logits", integer}, {"detached_logits", detached}, {"no_parameters", none}}) {
    m.eval();
    auto out = m.forward({torch::rand({2, 1, 28, 28})}).toTensor();
    TORCH_CHECK(out.sizes() == torch::IntArrayRef({2, 10}), name, ": eval-mode logits have the wrong shape");
    m.train();
    m.save(folder + "/" + name + ".pt");
  }
  return 0;
}
