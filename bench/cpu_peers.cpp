// cpu_peers.cpp — chorus_bench_peers: SGEMM (row-major C = A B, square)
// timed for chorus on one device and, in the same process and run, for
// CLBlast on the same OpenCL device and OpenBLAS on the same CPU cores, at
// 256^3, 1024^3 and 2048^3 (or --sizes). Each library is timed the same
// way: one call plus a wait for its completion, on the host clock, after a
// warm-up (which includes any kernel compile); the median over --reps calls
// is reported as GFLOP/s, with the ratio of chorus to each peer. The
// results of chorus and the peers are compared, so a fast wrong answer
// cannot pass for a win.
//
// usage: chorus_bench_peers [--device opencl:0] [--sizes 256,1024,2048] [--reps 7]
//                           [--markdown FILE]   (--reps defaults to 11)
#include <algorithm>
#include <chorus/chorus.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "peers.hpp"

#if CHORUS_BENCH_CLBLAST
#include <CL/cl.h>
#include <clblast.h>
#endif
#if CHORUS_BENCH_OPENBLAS
#include <cblas.h>
#endif

namespace {

using chorus_bench::median_seconds;

std::vector<float> random_matrix(int64_t n, uint64_t seed) {
  return chorus_bench::random_values(n * n, seed);
}

double max_difference(const std::vector<float>& a, const std::vector<float>& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(double(a[i]) - b[i]));
  return worst;
}

struct Row {
  int64_t n;
  double chorus_gflops = 0, clblast_gflops = 0, openblas_gflops = 0;
  double clblast_diff = -1, openblas_diff = -1;
};

#if CHORUS_BENCH_CLBLAST
// CLBlast on the OpenCL device whose name matches chorus's device.
struct ClBlast {
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  std::string device_name, why;

  explicit ClBlast(const std::string& wanted_name) {
    cl_uint platforms = 0;
    clGetPlatformIDs(0, nullptr, &platforms);
    std::vector<cl_platform_id> ids(platforms);
    if (platforms) clGetPlatformIDs(platforms, ids.data(), nullptr);
    for (cl_platform_id p : ids) {
      cl_uint count = 0;
      if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, nullptr, &count) != CL_SUCCESS) continue;
      std::vector<cl_device_id> devices(count);
      clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, count, devices.data(), nullptr);
      for (cl_device_id d : devices) {
        char name[256] = {};
        clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof name, name, nullptr);
        if (wanted_name != name) continue;
        cl_int e = CL_SUCCESS;
        context = clCreateContext(nullptr, 1, &d, nullptr, nullptr, &e);
        if (context) queue = clCreateCommandQueue(context, d, 0, &e);
        device_name = name;
        return;
      }
    }
    why = "no OpenCL device named '" + wanted_name + "'";
  }
  ~ClBlast() {
    if (queue) clReleaseCommandQueue(queue);
    if (context) clReleaseContext(context);
  }

  // GFLOP/s of C = A B, and C read back into *c.
  double run(int64_t n, int reps, const std::vector<float>& a, const std::vector<float>& b,
             std::vector<float>* c) {
    const size_t bytes = static_cast<size_t>(n * n) * sizeof(float);
    cl_int e = CL_SUCCESS;
    cl_mem da = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, nullptr, &e);
    cl_mem db = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, nullptr, &e);
    cl_mem dc = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, nullptr, &e);
    clEnqueueWriteBuffer(queue, da, CL_TRUE, 0, bytes, a.data(), 0, nullptr, nullptr);
    clEnqueueWriteBuffer(queue, db, CL_TRUE, 0, bytes, b.data(), 0, nullptr, nullptr);
    clblast::StatusCode status = clblast::StatusCode::kSuccess;
    const auto un = static_cast<size_t>(n);
    const double s = median_seconds(reps, [&] {
      status = clblast::Gemm<float>(clblast::Layout::kRowMajor, clblast::Transpose::kNo,
                                    clblast::Transpose::kNo, un, un, un, 1.0f, da, 0, un, db, 0, un,
                                    0.0f, dc, 0, un, &queue, nullptr);
      clFinish(queue);
    });
    c->resize(static_cast<size_t>(n * n));
    clEnqueueReadBuffer(queue, dc, CL_TRUE, 0, bytes, c->data(), 0, nullptr, nullptr);
    clReleaseMemObject(da);
    clReleaseMemObject(db);
    clReleaseMemObject(dc);
    if (status != clblast::StatusCode::kSuccess) {
      std::fprintf(stderr, "CLBlast Gemm failed with status %d\n", static_cast<int>(status));
      return 0;
    }
    return 2.0 * n * n * n / s * 1e-9;
  }
};
#endif

}  // namespace

int main(int argc, char** argv) {
  std::string device_name = "opencl:0", markdown;
  std::vector<int64_t> sizes = {256, 1024, 2048};
  int reps = 11;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string key = argv[i], value = argv[i + 1];
    if (key == "--device") {
      device_name = value;
    } else if (key == "--reps") {
      reps = std::max(1, std::atoi(value.c_str()));
    } else if (key == "--markdown") {
      markdown = value;
    } else if (key == "--sizes") {
      sizes.clear();
      std::stringstream ss(value);
      std::string item;
      while (std::getline(ss, item, ',')) sizes.push_back(std::atoll(item.c_str()));
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return 2;
    }
  }

  chorus::Context ctx;
  chorus::Device device = ctx.open(device_name);
  chorus::Queue queue = device.queue();
  const chorus_device_info info = device.info();
  std::printf("chorus on %s (%s), driver %s\n", info.name, info.description, info.driver_version);
#if CHORUS_BENCH_CLBLAST
  ClBlast clblast_peer(info.description);
  if (!clblast_peer.queue)
    std::printf("CLBlast: skipped (%s)\n", clblast_peer.why.c_str());
  else
    std::printf("CLBlast %d.%d.%d on the same OpenCL device\n", CLBLAST_VERSION_MAJOR,
                CLBLAST_VERSION_MINOR, CLBLAST_VERSION_PATCH);
#else
  std::printf("CLBlast: skipped (not found when chorus was configured)\n");
#endif
#if CHORUS_BENCH_OPENBLAS
  std::printf("OpenBLAS: %s, %d threads\n", openblas_get_config(), openblas_get_num_threads());
#else
  std::printf("OpenBLAS: skipped (not found when chorus was configured)\n");
#endif
  std::printf(
      "timing: host clock around one call and its completion, median of %d after >= 0.5 s of "
      "warm-up\n\n",
      reps);

  std::vector<Row> rows;
  for (const int64_t n : sizes) {
    Row row;
    row.n = n;
    const std::vector<float> a = random_matrix(n, 1), b = random_matrix(n, 2);
    std::vector<float> c(static_cast<size_t>(n * n));
    {
      const uint64_t bytes = static_cast<uint64_t>(n * n) * 4;
      chorus::Buffer ab = device.buffer(bytes), bb = device.buffer(bytes),
                     cb = device.buffer(bytes);
      queue.write<float>(ab, a);
      queue.write<float>(bb, b);
      chorus::Tensor at(ab, CHORUS_DTYPE_F32, {n, n}), bt(bb, CHORUS_DTYPE_F32, {n, n}),
          ct(cb, CHORUS_DTYPE_F32, {n, n});
      const double s = median_seconds(reps, [&] {
        chorus::ops::gemm(queue, at, bt, ct);
        queue.sync();
      });
      row.chorus_gflops = 2.0 * n * n * n / s * 1e-9;
      queue.read<float>(cb, c);
    }
#if CHORUS_BENCH_CLBLAST
    if (clblast_peer.queue) {
      std::vector<float> peer;
      row.clblast_gflops = clblast_peer.run(n, reps, a, b, &peer);
      row.clblast_diff = max_difference(c, peer);
    }
#endif
#if CHORUS_BENCH_OPENBLAS
    {
      std::vector<float> peer(static_cast<size_t>(n * n));
      const int un = static_cast<int>(n);
      const double s = median_seconds(reps, [&] {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, un, un, un, 1.0f, a.data(), un,
                    b.data(), un, 0.0f, peer.data(), un);
      });
      row.openblas_gflops = 2.0 * n * n * n / s * 1e-9;
      row.openblas_diff = max_difference(c, peer);
    }
#endif
    rows.push_back(row);
  }

  std::string table =
      "| n (M=N=K) | chorus GFLOP/s | CLBlast GFLOP/s | chorus / CLBlast | OpenBLAS GFLOP/s | "
      "chorus / OpenBLAS "
      "| max abs diff vs CLBlast, OpenBLAS |\n|---:|---:|---:|---:|---:|---:|---|\n";
  for (const Row& r : rows) {
    char line[512];
    auto cell = [](double v) {
      char b[32];
      if (v > 0)
        std::snprintf(b, sizeof b, "%.1f", v);
      else
        std::snprintf(b, sizeof b, "skipped");
      return std::string(b);
    };
    auto ratio = [](double x, double y) {
      char b[32];
      if (x > 0 && y > 0)
        std::snprintf(b, sizeof b, "%.2fx", x / y);
      else
        std::snprintf(b, sizeof b, "-");
      return std::string(b);
    };
    std::snprintf(line, sizeof line, "| %lld | %.1f | %s | %s | %s | %s | %.2g, %.2g |\n",
                  static_cast<long long>(r.n), r.chorus_gflops, cell(r.clblast_gflops).c_str(),
                  ratio(r.chorus_gflops, r.clblast_gflops).c_str(), cell(r.openblas_gflops).c_str(),
                  ratio(r.chorus_gflops, r.openblas_gflops).c_str(), r.clblast_diff,
                  r.openblas_diff);
    table += line;
  }
  return chorus_bench::emit_table(table, markdown);
}
