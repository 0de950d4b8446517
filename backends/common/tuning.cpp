// tuning.cpp — the tuning table. Only the CPU entry is measured (PoCL on the
// CI machines, see docs/perf/pocl.md); the GPU entries are conventional
// starting points for SIMT devices (coalesced 4-lane loads, 256-thread rows,
// 64x64 to 128x128 GEMM tiles staged through local memory) until a GPU run
// tunes them.
#include "tuning.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace chorus::backend_common {
namespace {

struct Entry {
  const char* name;
  const char* vendor_contains;  // "" matches any
  chorus_device_kind kind;      // UNKNOWN matches any
  Tuning tuning;
};

Tuning cpu() {
  Tuning t;
  t.elementwise_vw = 16;
  t.elementwise_local = 64;
  t.row_threads = 1;  // a work-item walks a whole row: no barriers
  t.rows_per_group = 4;
  t.row_vw = 16;
  t.pack_local = 64;
  // 8 x 32 floats = 16 AVX-512 accumulators; 16 work-items along m share
  // each packed b-panel while it is in L1/L2.
  t.gemm_f32 = {8, 32, 16, 16, 1, 0, 0};
  t.gemm_f64 = {8, 16, 8, 16, 1, 0, 0};
  return t;
}

Tuning gpu(int tile) {
  Tuning t;
  t.elementwise_vw = 4;
  t.elementwise_local = 256;
  t.row_threads = 256;
  t.rows_per_group = 1;
  t.row_vw = 4;
  t.pack_local = 256;
  t.gemm_f32 = {tile, tile, 4, 16, 16, 1, 16};
  t.gemm_f64 = {4, 4, 4, 16, 16, 1, 16};
  return t;
}

const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = {
      {"cpu", "", CHORUS_DEVICE_KIND_CPU, cpu()},
      {"nvidia-gpu", "NVIDIA", CHORUS_DEVICE_KIND_UNKNOWN, gpu(8)},
      {"amd-gpu", "Advanced Micro Devices", CHORUS_DEVICE_KIND_UNKNOWN, gpu(8)},
      {"gpu", "", CHORUS_DEVICE_KIND_DISCRETE_GPU, gpu(4)},
      {"integrated-gpu", "", CHORUS_DEVICE_KIND_INTEGRATED_GPU, gpu(4)},
      {"default", "", CHORUS_DEVICE_KIND_UNKNOWN, gpu(4)},
  };
  return entries;
}

// Keeps every parameter within what the device allows.
void clamp(Tuning& t, const DeviceIdentity& d) {
  const int max_group = static_cast<int>(std::max<uint32_t>(d.max_work_group_size, 1));
  auto pow2_floor = [](int v) {
    int p = 1;
    while (p * 2 <= v) p *= 2;
    return p;
  };
  t.elementwise_local = std::min(t.elementwise_local, max_group);
  t.pack_local = std::min(t.pack_local, max_group);
  t.row_threads = pow2_floor(std::min(t.row_threads, max_group));
  if (t.row_threads > 1) t.rows_per_group = 1;
  t.rows_per_group = std::max(1, std::min(t.rows_per_group, max_group / t.row_threads));
  for (auto [tiles, size] : {std::pair{&t.gemm_f32, 4}, std::pair{&t.gemm_f64, 8}}) {
    while (tiles->lm * tiles->ln > max_group) {
      if (tiles->lm >= tiles->ln)
        tiles->lm /= 2;
      else
        tiles->ln /= 2;
    }
    const uint64_t slabs =
        static_cast<uint64_t>(tiles->kc) * (tiles->lm * tiles->mr + tiles->ln * tiles->nr) * size;
    if (tiles->use_local && slabs > d.local_memory_bytes) tiles->use_local = 0;
  }
}

}  // namespace

std::vector<std::string> tuning_entry_names() {
  std::vector<std::string> names;
  for (const Entry& e : table()) names.push_back(e.name);
  return names;
}

Tuning tuning_for(const DeviceIdentity& device) {
  const char* forced = std::getenv("CHORUS_TUNING");
  return tuning_named(forced ? forced : "", device);
}

Tuning tuning_named(const std::string& forced, const DeviceIdentity& device) {
  const Entry* chosen = nullptr;
  for (const Entry& e : table()) {
    if (!forced.empty()) {
      if (forced == e.name) chosen = &e;
      continue;
    }
    if (e.kind != CHORUS_DEVICE_KIND_UNKNOWN && e.kind != device.kind) continue;
    if (*e.vendor_contains && device.vendor.find(e.vendor_contains) == std::string::npos) continue;
    chosen = &e;
    break;
  }
  if (!chosen) chosen = &table().back();
  Tuning t = chosen->tuning;
  t.name = chosen->name;
  // CHORUS_GEMM_TILES=mr,nr,vw,lm,ln,use_local,kc replaces the f32 GEMM
  // tiles: how new table entries are measured.
  if (const char* tiles = std::getenv("CHORUS_GEMM_TILES"); tiles && *tiles) {
    GemmTiles g;
    if (std::sscanf(tiles, "%d,%d,%d,%d,%d,%d,%d", &g.mr, &g.nr, &g.vw, &g.lm, &g.ln, &g.use_local,
                    &g.kc) == 7 &&
        g.mr > 0 && (g.vw == 1 || g.vw == 2 || g.vw == 4 || g.vw == 8 || g.vw == 16) &&
        g.nr % g.vw == 0 && g.lm > 0 && g.ln > 0) {
      t.gemm_f32 = g;
      t.name += "+CHORUS_GEMM_TILES";
    }
  }
  clamp(t, device);
  return t;
}

}  // namespace chorus::backend_common
