// NCCL process groups: forwards to libctorch_nccl.so (Sources/CTorchNCCL), which links libtorch_cuda.so
// and is therefore opened only on GPU machines, on first use.
#include "distributed.h"
#include <dlfcn.h>
#include <unistd.h>
#include <cstdlib>
#include <mutex>

using namespace ctorch;

namespace {

typedef const char *(*group_fn)(void *, int, int, int, int64_t, void **);
typedef const char *(*version_fn)(char *, int);

struct NCCLLibrary {
  std::string path;
  group_fn make = nullptr;
  version_fn version = nullptr;
};

std::mutex mutex;
NCCLLibrary *library = nullptr;

// The library's path: `requested`, else $AGR_NCCL_LIBRARY, else libctorch_nccl.so beside the executable.
std::string library_path(const char *requested) {
  if (requested && *requested) return requested;
  if (const char *env = std::getenv("AGR_NCCL_LIBRARY"); env && *env) return env;
  return executable_dir() + "/libctorch_nccl.so";
}

NCCLLibrary &open_library(const std::string &path) {
  void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char *e = dlerror();
    throw std::runtime_error("NCCL: cannot open " + path + " (" + (e ? e : "unknown dlopen error") +
                             "); build it with scripts/build-nccl.sh and put it beside the agr binary, "
                             "or set AGR_NCCL_LIBRARY to its path");
  }
  auto sym = [&](const char *name) {
    void *f = dlsym(h, name);
    if (!f) throw std::runtime_error("NCCL: " + path + " lacks " + name + " (a stale build? run scripts/build-nccl.sh)");
    return f;
  };
  auto *lib = new NCCLLibrary;
  lib->path = path;
  lib->make = reinterpret_cast<group_fn>(sym("ctn_process_group_new"));
  lib->version = reinterpret_cast<version_fn>(sym("ctn_nccl_version"));
  return *lib;
}

NCCLLibrary &load(const char *requested, bool require_cuda) {
  std::lock_guard<std::mutex> lock(mutex);
  if (library) return *library;
  if (require_cuda && ctorch_cuda_is_available() == 0)
    throw std::runtime_error("NCCL needs CUDA GPUs, and this machine has none (or CUDA is not loaded): "
                             "ranks on the CPU use Gloo (--dist-backend gloo, device cpu)");
  library = &open_library(library_path(requested));
  return *library;
}

void checked(const char *error) {
  if (error) throw std::runtime_error(std::string("NCCL: ") + error);
}

}  // namespace

extern "C" {

int ctorch_nccl_library_load(const char *path) { CT_TRY(load(path, true)) }

int ctorch_nccl_library_path(const char *requested, char *buffer, size_t capacity) {
  CT_TRY({
    auto path = library_path(requested);
    std::snprintf(buffer, capacity, "%s", path.c_str());
  })
}

int ctorch_nccl_library_probe(const char *path) {
  CT_TRY({
    // Opens the library without asking for CUDA (the loading code's test on a CPU machine): what fails
    // is dlopen or a missing symbol, with the message a user would see.
    std::lock_guard<std::mutex> lock(mutex);
    (void)open_library(library_path(path));
  })
}

int ctorch_nccl_version(char *buffer, int capacity) {
  CT_TRY(checked(load(nullptr, true).version(buffer, capacity)))
}

int ctorch_process_group_new_nccl(ctorch_store s, int rank, int world_size, int device, int64_t timeout_ms,
                                  ctorch_process_group *out) {
  CT_TRY({
    auto &lib = load(nullptr, true);
    auto store = store_pointer(s);
    void *raw = nullptr;
    checked(lib.make(store.get(), rank, world_size, device, timeout_ms, &raw));
    auto group = c10::intrusive_ptr<c10d::Backend>::reclaim(static_cast<c10d::Backend *>(raw));
    *out = reinterpret_cast<ctorch_process_group>(new ProcessGroupHandle{std::move(group)});
  })
}

}  // extern "C"
