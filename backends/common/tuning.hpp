// tuning.hpp — per-device kernel parameters for the portable kernels: vector
// widths, work-group shapes, GEMM tiles. A small table keyed by device
// (vendor, name, kind), first match wins, with safe defaults per device kind
// (CLBlast keeps its tuned parameters the same way). The numbers are chosen
// by measurement; docs/backends.md records where each came from.
#pragma once

#include <chorus/chorus.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chorus::backend_common {

struct GemmTiles {
  int mr = 4;         // rows of c per work-item
  int nr = 4;         // columns of c per work-item (a multiple of vw)
  int vw = 4;         // lanes per vector along n
  int lm = 8;         // work-group extent along m (work-items)
  int ln = 8;         // work-group extent along n
  int use_local = 1;  // stage kc-deep slabs in local memory
  int kc = 16;        // slab depth when use_local
};

struct Tuning {
  std::string name;             // the table entry that matched
  int elementwise_vw = 4;       // vector width of contiguous elementwise kernels
  int elementwise_local = 256;  // work-items per work-group, elementwise
  int row_threads = 256;        // work-items sharing one row (power of two)
  int rows_per_group = 1;       // rows per work-group when row_threads is 1
  int row_vw = 4;               // vector width in the row kernels
  int pack_local = 256;         // work-items per work-group in GEMM packing
  GemmTiles gemm_f32;           // f32, f16, bf16 (computed in f32)
  GemmTiles gemm_f64;
};

struct DeviceIdentity {
  std::string vendor;
  std::string name;
  chorus_device_kind kind = CHORUS_DEVICE_KIND_UNKNOWN;
  uint32_t max_work_group_size = 1;
  uint64_t local_memory_bytes = 0;
};

// The parameters for a device. CHORUS_TUNING=<entry name> forces an entry
// (the tests use it to run the GPU path on a CPU).
Tuning tuning_for(const DeviceIdentity& device);
// The entry called `name` (the device's own entry when name is empty, the
// last, "default", when no entry has that name), with the same clamping and
// CHORUS_GEMM_TILES override as tuning_for.
Tuning tuning_named(const std::string& name, const DeviceIdentity& device);
// The names of the table's entries, in order ("cpu", "nvidia-gpu", ...).
std::vector<std::string> tuning_entry_names();

}  // namespace chorus::backend_common
