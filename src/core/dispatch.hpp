// dispatch.hpp — how an op call reaches a backend (dispatch.cpp): plans,
// the per-device plan cache, composites, and the entry the family files'
// C functions call.
#pragma once

#include <chorus/backend.h>
#include <chorus/chorus.h>

#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/op_schema.hpp"
#include "core/views.hpp"

namespace chorus::core {

struct DeviceState;

// What a backend's op_create returned; op_destroy runs with the last owner.
struct BackendOp {
  DeviceState* device = nullptr;  // a plan never outlives its device (plan.cpp)
  void* handle = nullptr;
  BackendOp() = default;
  BackendOp(const BackendOp&) = delete;
  BackendOp& operator=(const BackendOp&) = delete;
  ~BackendOp();
};

// One backend op of a plan, and where each of its tensors lives.
struct Step {
  std::shared_ptr<BackendOp> op;
  uint32_t count = 0;
  int32_t source[kMaxSlots] = {};  // user slot, kTempSource, or kNoSource (absent)
  int64_t offset[kMaxSlots] = {};  // element offset when the plan was made
  uint32_t loop_rank = 0;          // Call::loop_* (GEMM's unfoldable batch axes)
  int64_t loop_shape[CHORUS_MAX_RANK] = {};
  int64_t loop_strides[kMaxSlots][CHORUS_MAX_RANK] = {};
};

// A user tensor argument as the plan was made for it.
struct SlotLayout {
  bool present = false;
  chorus_dtype dtype = CHORUS_DTYPE_INVALID;
  uint32_t rank = 0;
  int64_t shape[CHORUS_MAX_RANK] = {};
  int64_t strides[CHORUS_MAX_RANK] = {};
  int64_t offset = 0;  // at creation
  int64_t span = 0;    // elements from the first to the farthest, + 1 (0: empty)
  Footprint footprint;
};

// An output/input pair that must not overlap, unless `identical_allowed`
// and the two are the very same view (same buffer and offset).
struct AliasRule {
  uint32_t output = 0, input = 0;
  bool identical_allowed = false;
};

struct Plan {
  chorus_op_kind kind = CHORUS_OP_INVALID;
  std::string label;
  chorus_op_path path = CHORUS_OP_PATH_NONE;
  std::string description;
  uint32_t numerics = 0;
  uint32_t slot_count = 0;
  SlotLayout slots[kMaxSlots];
  std::vector<AliasRule> aliases;
  std::vector<Step> steps;
  uint64_t scratch_bytes = 0;
};

// Plans of plain op calls, per device, keyed by the call's layouts.
class PlanCache {
 public:
  static constexpr size_t kCapacity = 4096;
  std::shared_ptr<const Plan> find(const uint64_t* key, uint32_t words, uint64_t hash);
  void insert(const uint64_t* key, uint32_t words, uint64_t hash, std::shared_ptr<const Plan> plan);
  void clear();

 private:
  struct Entry {
    std::vector<uint64_t> key;
    std::shared_ptr<const Plan> plan;
    uint64_t last_use = 0;
  };
  std::mutex mutex_;
  std::unordered_multimap<uint64_t, Entry> entries_;
  uint64_t clock_ = 0;
};

// The plain op call: plan from the cache (or made and cached), then run.
// op_name names the C function in messages when the kind is unknown.
// kind is an int32: the C API's callers may pass any value.
chorus_status run_op(chorus_queue queue, int32_t kind, const void* attrs,
                     uint32_t count, const chorus_tensor* const* tensors);
inline chorus_status run_op(chorus_queue queue, int32_t kind, const void* attrs,
                            std::initializer_list<const chorus_tensor*> tensors) {
  return run_op(queue, kind, attrs, static_cast<uint32_t>(tensors.size()), tensors.begin());
}
// The named C functions that take their attributes struct by pointer:
// NULL is refused with a message naming the op and the struct (only
// chorus_op_run reads NULL as "every default"), then run_op.
chorus_status run_op_with_attrs(chorus_queue queue, int32_t kind, const void* attrs,
                                const char* attrs_type,
                                std::initializer_list<const chorus_tensor*> tensors);

}  // namespace chorus::core
