// CUDA graphs: forwards ctorch_graph_* to libctorch_cuda_graphs.so (Sources/CTorchCUDAGraphs), which
// links libtorch_cuda.so and is therefore opened only on GPU machines, on first use.
#include "shim.h"
#include <dlfcn.h>
#include <unistd.h>
#include <cstdlib>
#include <mutex>

using namespace ctorch;

namespace {

typedef const char *(*new_fn)(int, void **);
typedef const char *(*graph_fn)(void *);
typedef void (*free_fn)(void *);

struct GraphsLibrary {
  new_fn make = nullptr;
  free_fn release = nullptr;
  graph_fn enter = nullptr, exit = nullptr, begin = nullptr, end = nullptr, replay = nullptr;
};

std::mutex mutex;
GraphsLibrary *library = nullptr;

GraphsLibrary &load(const char *requested) {
  std::lock_guard<std::mutex> lock(mutex);
  if (library) return *library;
  if (ctorch_cuda_is_available() == 0)
    throw std::runtime_error("CUDA graphs need CUDA: load it first (Torch CUDA.load(), agr --device cuda)");
  std::string path;
  if (requested && *requested) {
    path = requested;
  } else if (const char *env = std::getenv("AGR_CUDA_GRAPHS_LIBRARY"); env && *env) {
    path = env;
  } else {
    path = executable_dir() + "/libctorch_cuda_graphs.so";
  }
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    throw std::runtime_error("CUDA graphs: cannot open " + path + " (" + (e ? e : "unknown dlopen error") +
                             "); build it with scripts/build-cuda-graphs.sh and put it beside the agr binary, "
                             "or set AGR_CUDA_GRAPHS_LIBRARY to its path");
  }
  auto sym = [&](const char *name) {
    void *f = dlsym(h, name);
    if (!f) throw std::runtime_error(std::string("CUDA graphs: ") + path + " lacks " + name + " (a stale build?)");
    return f;
  };
  auto *lib = new GraphsLibrary;
  lib->make = reinterpret_cast<new_fn>(sym("ctg_new"));
  lib->release = reinterpret_cast<free_fn>(sym("ctg_free"));
  lib->enter = reinterpret_cast<graph_fn>(sym("ctg_side_stream_enter"));
  lib->exit = reinterpret_cast<graph_fn>(sym("ctg_side_stream_exit"));
  lib->begin = reinterpret_cast<graph_fn>(sym("ctg_capture_begin"));
  lib->end = reinterpret_cast<graph_fn>(sym("ctg_capture_end"));
  lib->replay = reinterpret_cast<graph_fn>(sym("ctg_replay"));
  library = lib;
  return *library;
}

void checked(const char *error) {
  if (error) throw std::runtime_error(error);
}

void *H(ctorch_graph g) {
  if (!g) throw std::invalid_argument("null CUDA graph handle");
  return reinterpret_cast<void *>(g);
}

}  // namespace

extern "C" {

int ctorch_graph_library_load(const char *path) { CT_TRY(load(path)) }

int ctorch_graph_new(int device, ctorch_graph *out) {
  CT_TRY({
    void *g = nullptr;
    checked(load(nullptr).make(device, &g));
    *out = reinterpret_cast<ctorch_graph>(g);
  })
}
void ctorch_graph_free(ctorch_graph g) {
  if (g && library) library->release(reinterpret_cast<void *>(g));
}
int ctorch_graph_side_stream_enter(ctorch_graph g) { CT_TRY(checked(load(nullptr).enter(H(g)))) }
int ctorch_graph_side_stream_exit(ctorch_graph g) { CT_TRY(checked(load(nullptr).exit(H(g)))) }
int ctorch_graph_capture_begin(ctorch_graph g) { CT_TRY(checked(load(nullptr).begin(H(g)))) }
int ctorch_graph_capture_end(ctorch_graph g) { CT_TRY(checked(load(nullptr).end(H(g)))) }
int ctorch_graph_replay(ctorch_graph g) { CT_TRY(checked(load(nullptr).replay(H(g)))) }

}  // extern "C"
