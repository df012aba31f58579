// libctorch_cuda_graphs.so: CUDA graphs (at::cuda::CUDAGraph) behind a plain C interface.
//
// It links libtorch_cuda.so, which CPU-only machines cannot load, so it is not part of the Swift
// package: scripts/build-cuda-graphs.sh builds it, and the CTorch shim opens it with dlopen on
// first use (ctorch_graph_* in Sources/CTorch/cuda_graphs.cpp), after libtorch_cuda.so is loaded.
//
// Every function returns nullptr on success or a message (valid until the next failing call on
// the same thread); no C++ exception crosses this boundary.
//
// Streams: a graph is captured on a stream of its own (CUDA cannot capture the legacy default
// stream), and the untimed warm-up steps before a capture should run on that same stream so
// that what libraries create lazily per stream (cuBLAS workspaces) exists before capture begins.
// Entering and leaving the side stream synchronises the device: it happens once per capture.
// Replays are launched on the caller's current stream.
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

struct Graph {
  c10::DeviceIndex device;
  at::cuda::CUDAGraph graph;
  c10::cuda::CUDAStream side;
  std::optional<c10::cuda::CUDAStream> saved;  // the stream to go back to while on `side`
  bool capturing = false;
  bool captured = false;

  explicit Graph(c10::DeviceIndex d) : device(d), side(c10::cuda::getStreamFromPool(false, d)) {}

  void enter() {
    if (saved) throw std::logic_error("CUDA graph: already on its side stream");
    c10::cuda::CUDAGuard guard(device);
    c10::cuda::device_synchronize();
    saved = c10::cuda::getCurrentCUDAStream(device);
    c10::cuda::setCurrentCUDAStream(side);
  }
  void exit() {
    if (!saved) throw std::logic_error("CUDA graph: not on its side stream");
    c10::cuda::CUDAGuard guard(device);
    c10::cuda::device_synchronize();
    c10::cuda::setCurrentCUDAStream(*saved);
    saved.reset();
  }
};

thread_local std::string last_error;

template <typename F>
const char *guarded(F body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception &e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception in libtorch_cuda";
  }
  return last_error.c_str();
}

Graph &G(void *g) {
  if (!g) throw std::invalid_argument("null CUDA graph handle");
  return *static_cast<Graph *>(g);
}

}  // namespace

extern "C" {

const char *ctg_new(int device, void **out) {
  return guarded([&] {
    if (device < 0 || device >= c10::cuda::device_count())
      throw std::invalid_argument("CUDA device " + std::to_string(device) + " does not exist");
    *out = new Graph(static_cast<c10::DeviceIndex>(device));
  });
}

void ctg_free(void *g) {
  try {
    auto *graph = static_cast<Graph *>(g);
    if (!graph) return;
    if (graph->saved) graph->exit();
    // A replay may still be running: its graph and memory must outlive it.
    if (graph->captured) c10::cuda::device_synchronize();
    delete graph;
  } catch (...) {
  }
}

const char *ctg_side_stream_enter(void *g) { return guarded([&] { G(g).enter(); }); }
const char *ctg_side_stream_exit(void *g) { return guarded([&] { G(g).exit(); }); }

const char *ctg_capture_begin(void *g) {
  return guarded([&] {
    Graph &graph = G(g);
    if (graph.captured || graph.capturing) throw std::logic_error("CUDA graph: already captured");
    graph.enter();
    try {
      graph.graph.capture_begin();
    } catch (...) {
      graph.exit();
      throw;
    }
    graph.capturing = true;
  });
}

// Ends the capture even when the captured work failed on the host (abandon = 1): the stream
// must leave capture mode before anything else can run on the device.
const char *ctg_capture_end(void *g) {
  return guarded([&] {
    Graph &graph = G(g);
    if (!graph.capturing) throw std::logic_error("CUDA graph: no capture in progress");
    graph.capturing = false;
    try {
      graph.graph.capture_end();
    } catch (...) {
      graph.exit();
      throw;
    }
    graph.exit();
    graph.captured = true;
  });
}

const char *ctg_replay(void *g) {
  return guarded([&] {
    Graph &graph = G(g);
    if (!graph.captured) throw std::logic_error("CUDA graph: replay before a successful capture");
    c10::cuda::CUDAGuard guard(graph.device);
    graph.graph.replay();
  });
}

}  // extern "C"
