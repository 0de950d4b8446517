// dispatch.cpp — every op call, whatever its kind, goes through here:
//
//   user call -> key of its layouts -> plan cache (per device)
//     miss: attributes (full struct, defaults, enums as integers) -> views
//           (overflow-safe fit, dtypes of the slot and variant, device) ->
//           family normalise() -> aliasing -> axis collapse -> backend
//           op_create, or a composite when the backend says UNSUPPORTED
//     hit:  nothing of that again
//   -> execute: each tensor checked against the plan's layout and its buffer,
//      aliasing checked with the real buffers and offsets, each step's
//      backend op enqueued with its bindings.
//
// A plan depends on layouts (dtype, shape, strides) only; buffers and element
// offsets are bound at execution, so one plan serves every call of the same
// layouts and the public chorus_plan is the very object plain calls cache.
#include "core/dispatch.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "core/objects.hpp"

namespace chorus::core {

BackendOp::~BackendOp() {
  if (handle && device && device->plugin->vtable->op_destroy)
    device->plugin->vtable->op_destroy(device->handle, handle);
}

bool DeviceState::prefers_composite(const std::string& name, const std::string& label) const {
  for (const std::string& p : prefer_composite)
    if (p == "all" || p == name || p == label) return true;
  return false;
}

// ----------------------------------------------------------- plan cache

std::shared_ptr<const Plan> PlanCache::find(const uint64_t* key, uint32_t words, uint64_t hash) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto [first, last] = entries_.equal_range(hash);
  for (auto it = first; it != last; ++it) {
    Entry& e = it->second;
    if (e.key.size() == words && std::memcmp(e.key.data(), key, words * sizeof(uint64_t)) == 0) {
      e.last_use = ++clock_;
      return e.plan;
    }
  }
  return nullptr;
}

void PlanCache::insert(const uint64_t* key, uint32_t words, uint64_t hash,
                       std::shared_ptr<const Plan> plan) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= kCapacity) {
    // Drop the least recently used half: one pass now and then, never per call.
    std::vector<uint64_t> uses;
    uses.reserve(entries_.size());
    for (const auto& [h, e] : entries_) uses.push_back(e.last_use);
    std::nth_element(uses.begin(), uses.begin() + uses.size() / 2, uses.end());
    const uint64_t cut = uses[uses.size() / 2];
    for (auto it = entries_.begin(); it != entries_.end();)
      it = it->second.last_use <= cut ? entries_.erase(it) : std::next(it);
  }
  Entry e;
  e.key.assign(key, key + words);
  e.plan = std::move(plan);
  e.last_use = ++clock_;
  entries_.emplace(hash, std::move(e));
}

void PlanCache::clear() {
  std::unordered_multimap<uint64_t, Entry> old;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    old.swap(entries_);
  }
}

namespace {

// --------------------------------------------------------------- attributes

// The caller's attributes as the op's full current struct: the bytes it
// gave (up to its struct_size), defaults for fields past that, struct_size
// set to the full size. Returns false (nothing checked) when the caller's
// struct is malformed or larger than this libchorus knows: the slow path
// then says what is wrong.
bool copy_attrs(const OpSchema& s, const void* attrs, unsigned char* out) {
  if (s.attrs_size == 0) return true;
  uint32_t given = 0;
  if (attrs) {
    std::memcpy(&given, attrs, sizeof given);
    if (given < sizeof(uint32_t) || given > s.attrs_size) return false;
    std::memcpy(out, attrs, given);
    if (given == s.attrs_size) return true;  // the common case: nothing to default
  }
  std::memset(out + given, 0, s.attrs_size - given);
  for (const Attr& a : s.attrs) {
    if (attrs && a.offset < given) continue;
    if (a.type == CHORUS_ATTR_DOUBLE) {
      std::memcpy(out + a.offset, &a.default_value, sizeof(double));
    } else if (a.type == CHORUS_ATTR_UINT64) {
      const auto v = static_cast<uint64_t>(a.default_value);
      std::memcpy(out + a.offset, &v, sizeof v);
    } else {
      const auto v = static_cast<int32_t>(a.default_value);
      std::memcpy(out + a.offset, &v, sizeof v);
    }
  }
  std::memcpy(out, &s.attrs_size, sizeof(uint32_t));
  return true;
}

const char* variant_name(const OpSchema& s, const unsigned char* attrs) {
  if (s.label) return s.label(attrs);
  if (s.variant_attr < 0) return s.name;
  const Attr& a = s.attrs[static_cast<size_t>(s.variant_attr)];
  const int32_t v = attr_i32(attrs, a.offset);
  return v >= 0 && static_cast<size_t>(v) < a.enum_names.size() ? a.enum_names[static_cast<size_t>(v)]
                                                                  : s.name;
}

// The checks copy_attrs leaves out: the struct's size, enum and bool values
// read as integers.
chorus_status check_attrs(const OpSchema& s, const void* attrs, Call& call) {
  if (s.attrs_size == 0) return CHORUS_OK;
  if (attrs) {
    uint32_t given = 0;
    std::memcpy(&given, attrs, sizeof given);
    if (given < sizeof(uint32_t))
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "%s: attrs->struct_size is %u; set it to sizeof the attributes struct", s.name,
                   given);
    if (given > s.attrs_size) {
      // A caller built against a newer chorus.h: its extra fields must be
      // at their "as before" zero value for this libchorus to honour it.
      const auto* bytes = static_cast<const unsigned char*>(attrs);
      for (uint32_t i = s.attrs_size; i < given && i < 4096; ++i)
        if (bytes[i] != 0)
          return failf(CHORUS_ERROR_UNSUPPORTED,
                       "%s: attrs set fields past byte %u, which this libchorus (%s) does not know",
                       s.name, s.attrs_size, chorus_version_string());
      copy_attrs(s, nullptr, call.attrs);
      std::memcpy(call.attrs, attrs, s.attrs_size);
      std::memcpy(call.attrs, &s.attrs_size, sizeof(uint32_t));
    }
  }
  for (const Attr& a : s.attrs) {
    if (a.type != CHORUS_ATTR_ENUM && a.type != CHORUS_ATTR_BOOL) continue;
    const int32_t v = attr_i32(call.attrs, a.offset);
    const int32_t count =
        a.type == CHORUS_ATTR_BOOL ? 2 : static_cast<int32_t>(a.enum_names.size());
    if (v < 0 || v >= count)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s %d is not %s%s", s.name, a.name, v,
                   a.type == CHORUS_ATTR_BOOL ? "0 or 1" : "a ",
                   a.type == CHORUS_ATTR_BOOL ? "" : a.enum_type);
  }
  return CHORUS_OK;
}

// ------------------------------------------------------------ dtype rules

std::string dtype_list(uint32_t mask) {
  std::string out;
  for (int d = 1; d < CHORUS_DTYPE_COUNT_; ++d)
    if (mask & (1u << d))
      out += (out.empty() ? "" : ", ") + std::string(chorus_dtype_name(static_cast<chorus_dtype>(d)));
  return out;
}

chorus_status check_dtypes(Call& call) {
  const OpSchema& s = *call.schema;
  for (uint32_t i = 0; i < call.slot_count; ++i) {
    const View& v = call.views[i];
    if (!v.present) continue;
    const Slot& slot = s.slots[i];
    if (slot.same_dtype_as >= 0) {
      const View& ref = call.views[slot.same_dtype_as];
      if (ref.present && ref.dtype != v.dtype)
        return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is %s but %s is %s; they must match",
                         slot.name, chorus_dtype_name(v.dtype), s.slots[slot.same_dtype_as].name,
                         chorus_dtype_name(ref.dtype));
      continue;
    }
    uint32_t allowed = slot.dtypes;
    if (i == 0 && s.variant_attr >= 0) {
      const Attr& a = s.attrs[static_cast<size_t>(s.variant_attr)];
      const auto value = static_cast<size_t>(attr_i32(call.attrs, a.offset));
      if (value < a.enum_dtypes.size()) allowed &= a.enum_dtypes[value];
    }
    if (!(allowed & dtype_bit(v.dtype)))
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is %s; %s takes %s", slot.name,
                       chorus_dtype_name(v.dtype), call.label.c_str(),
                       dtype_list(allowed).c_str());
  }
  for (uint32_t i = 0; i < call.slot_count; ++i) {
    const View& v = call.views[i];
    if (v.present && call.device && !(call.device->dtype_mask & dtype_bit(v.dtype)))
      return call.fail(CHORUS_ERROR_UNSUPPORTED, "%s is %s, which %s does not support",
                       s.slots[i].name, chorus_dtype_name(v.dtype), call.device->name);
  }
  return CHORUS_OK;
}

bool is_output(Role r) { return r != Role::input; }

// ---------------------------------------------------------------- building

struct Build;

// Turns one validated call (a user's or a composite's) into steps.
chorus_status build_call(Build& b, Call& call);

// The state of making one plan; composites add to it recursively.
struct Build {
  DeviceState* device = nullptr;
  uint32_t numerics = 0;
  Plan* plan = nullptr;
  int depth = 0;
  std::string backend_reason;  // the first UNSUPPORTED a backend gave
};

class LoweringImpl final : public Lowering {
 public:
  LoweringImpl(Build& b, const Call& op) : b_(b), op_(op) {}
  const Call& op() const override { return op_; }

  View temporary(chorus_dtype dtype, uint32_t rank, const int64_t* shape) override {
    View v;
    v.present = true;
    v.dtype = dtype;
    v.rank = rank;
    int64_t stride = 1;
    for (uint32_t i = rank; i-- > 0;) {
      v.shape[i] = shape[i];
      v.strides[i] = shape[i] == 1 ? 0 : stride;
      stride *= shape[i];
    }
    const uint64_t esize = chorus_dtype_size(dtype);
    const uint64_t start = (b_.plan->scratch_bytes + 255) / 256 * 256;
    v.offset = static_cast<int64_t>(start / esize);
    v.source = kTempSource;
    b_.plan->scratch_bytes = start + static_cast<uint64_t>(stride) * esize;
    return v;
  }

  chorus_status run(chorus_op_kind kind, const void* attrs,
                    std::initializer_list<const View*> views) override {
    const OpSchema* s = find_op(kind);
    if (!s) return fail(CHORUS_ERROR_INTERNAL, "a composite runs an unknown op kind");
    Call call;
    call.schema = s;
    call.device = op_.device;
    call.numerics = op_.numerics;
    if (!copy_attrs(*s, attrs, call.attrs))
      return failf(CHORUS_ERROR_INTERNAL, "%s: a composite passes malformed %s attributes",
                   op_.label.c_str(), s->name);
    call.label = variant_name(*s, call.attrs);
    if (auto st = check_attrs(*s, attrs, call)) return st;
    if (views.size() != s->slots.size())
      return failf(CHORUS_ERROR_INTERNAL, "%s: a composite gives %s %zu tensors",
                   op_.label.c_str(), s->name, views.size());
    call.slot_count = static_cast<uint32_t>(views.size());
    uint32_t i = 0;
    for (const View* v : views) {
      if (v) call.views[i] = *v;
      ++i;
    }
    // Sub-ops on views of one source must keep its aliasing rules too: a
    // composite that reads what it has already overwritten is a bug.
    if (auto st = check_dtypes(call)) return st;
    if (s->normalise)
      if (auto st = s->normalise(call)) return st;
    for (uint32_t o = 0; o < call.slot_count; ++o) {
      if (!call.views[o].present || !is_output(s->slots[o].role)) continue;
      const View& out = call.views[o];
      const Footprint fo = footprint(out);
      for (uint32_t in = 0; in < call.slot_count; ++in) {
        const View& v = call.views[in];
        if (in == o || !v.present || v.source != out.source) continue;
        const Footprint fi = footprint(v);
        if (fo.empty || fi.empty) continue;
        const int64_t oa = out.offset * static_cast<int64_t>(chorus_dtype_size(out.dtype));
        const int64_t ia = v.offset * static_cast<int64_t>(chorus_dtype_size(v.dtype));
        if (oa + fo.last_byte < ia + fi.first_byte || ia + fi.last_byte < oa + fo.first_byte)
          continue;
        if ((s->slots[o].in_place_with & (1u << in)) && oa == ia && same_layout(out, v)) continue;
        return failf(CHORUS_ERROR_INTERNAL, "%s: its composite's %s overlaps its input %s",
                     op_.label.c_str(), call.label.c_str(), s->slots[in].name);
      }
    }
    return build_call(b_, call);
  }

 private:
  Build& b_;
  const Call& op_;
};

chorus_status lower(Build& b, const Call& call, ComposeFn compose) {
  if (b.depth > 8)
    return failf(CHORUS_ERROR_INTERNAL, "%s: composites nest deeper than 8", call.label.c_str());
  ++b.depth;
  LoweringImpl lowering(b, call);
  const chorus_status s = compose(lowering);
  --b.depth;
  return s;
}

// The backend's own op for a normalised call: CHORUS_OK and a step, or
// its status (UNSUPPORTED: *why) with nothing added.
chorus_status native_step(Build& b, const Call& call, std::string* why) {
  chorus_backend_tensor tensors[kMaxSlots] = {};
  for (uint32_t i = 0; i < call.slot_count; ++i) {
    const View& v = call.views[i];
    if (!v.present) continue;
    chorus_backend_tensor& t = tensors[i];
    t.dtype = v.dtype;
    t.rank = v.rank;
    for (uint32_t k = 0; k < v.rank; ++k) {
      t.shape[k] = v.shape[k];
      t.strides[k] = v.strides[k];
    }
  }
  chorus_op_record record{};
  record.struct_size = sizeof record;
  record.kind = call.schema->kind;
  record.numerics = call.numerics;
  record.tensor_count = call.slot_count;
  record.tensors = tensors;
  record.attrs = call.schema->attrs_size ? call.attrs : nullptr;
  record.attrs_size = call.schema->attrs_size;
  const chorus_backend_vtable* vt = b.device->plugin->vtable;
  fail(CHORUS_OK, "");
  void* handle = nullptr;
  const chorus_status s = vt->op_create(b.device->handle, &record, &handle);
  if (s != CHORUS_OK) {
    *why = chorus_last_error_message();
    if (why->empty()) *why = chorus_status_name(s);
    return s;
  }
  auto op = std::make_shared<BackendOp>();
  op->device = b.device;
  op->handle = handle;
  Step step;
  step.op = std::move(op);
  step.count = call.slot_count;
  for (uint32_t i = 0; i < call.slot_count; ++i) {
    step.source[i] = call.views[i].present ? call.views[i].source : kNoSource;
    step.offset[i] = call.views[i].offset;
  }
  step.loop_rank = call.loop_rank;
  for (uint32_t k = 0; k < call.loop_rank; ++k) {
    step.loop_shape[k] = call.loop_shape[k];
    for (uint32_t i = 0; i < call.slot_count; ++i) step.loop_strides[i][k] = call.loop_strides[i][k];
  }
  b.plan->steps.push_back(std::move(step));
  return CHORUS_OK;
}

chorus_status build_call(Build& b, Call& call) {
  const OpSchema& s = *call.schema;
  const bool top = b.depth == 0;
  if (call.replace_with) {
    if (top) {
      b.plan->path = CHORUS_OP_PATH_COMPOSITE;
      b.plan->description = call.label + " = other ops in this case (docs/ops.md)";
    }
    return lower(b, call, call.replace_with);
  }
  if (call.no_op) return CHORUS_OK;
  // Nothing runs when every output is zero-size (an op with several outputs
  // still writes the others: conv2d_backward_weight's dbias when C = 0).
  bool writes = false;
  for (uint32_t i = 0; i < call.slot_count; ++i)
    if (call.views[i].present && is_output(s.slots[i].role) && call.views[i].numel() != 0)
      writes = true;
  if (!writes) return CHORUS_OK;

  // The one axis collapse, by normal form.
  if (s.form != NormalForm::custom) {
    uint32_t walk = 0;
    if (s.form == NormalForm::elementwise)
      for (uint32_t i = 0; i < call.slot_count; ++i)
        if (is_output(s.slots[i].role) && call.views[i].present) walk = i;  // not an absent one
    uint32_t inner = 0;
    collapse(call.views, call.slot_count, walk, s.form == NormalForm::rows ? call.inner_rank : 0,
             &inner);
    if (s.form == NormalForm::rows) call.inner_rank = inner;
  }
  if (s.finish) s.finish(call);

  const bool composite_first = !s.composites.empty() &&
                               b.device->prefers_composite(s.name, call.label);
  std::string why;
  chorus_status st = CHORUS_ERROR_UNSUPPORTED;
  if (!composite_first) {
    st = native_step(b, call, &why);
    if (st == CHORUS_OK) {
      if (top) b.plan->path = CHORUS_OP_PATH_NATIVE;
      return CHORUS_OK;
    }
    if (st != CHORUS_ERROR_UNSUPPORTED) return failf(st, "%s on %s: %s", call.label.c_str(),
                                                     b.device->info.name, why.c_str());
    if (b.backend_reason.empty()) b.backend_reason = why;
  }
  for (const Composite& c : s.composites) {
    const size_t steps_before = b.plan->steps.size();
    const uint64_t scratch_before = b.plan->scratch_bytes;
    st = lower(b, call, c.lower);
    if (st == CHORUS_OK) {
      if (top) {
        b.plan->path = CHORUS_OP_PATH_COMPOSITE;
        b.plan->description = call.label + " = " + c.description;
      }
      return CHORUS_OK;
    }
    b.plan->steps.resize(steps_before);
    b.plan->scratch_bytes = scratch_before;
    if (st != CHORUS_ERROR_UNSUPPORTED) return st;
  }
  if (composite_first) {
    st = native_step(b, call, &why);
    if (st == CHORUS_OK) {
      if (top) b.plan->path = CHORUS_OP_PATH_NATIVE;
      return CHORUS_OK;
    }
    if (b.backend_reason.empty()) b.backend_reason = why;
  }
  return failf(CHORUS_ERROR_UNSUPPORTED, "%s on %s: %s%s", call.label.c_str(),
               b.device->info.name, b.backend_reason.c_str(),
               s.composites.empty() ? "" : " (and no composite of it could run either)");
}

// ----------------------------------------------------------------- plans

// Validates a user call and makes its plan.
chorus_status make_plan(chorus_queue queue, const OpSchema& s, const void* attrs, uint32_t count,
                        const chorus_tensor* const* tensors, std::shared_ptr<Plan>* out) {
  DeviceState* device = queue->device.get();
  auto plan = std::make_shared<Plan>();
  Call call;
  call.schema = &s;
  call.device = &device->info;
  call.numerics = queue->numerics_requested;
  if (!copy_attrs(s, attrs, call.attrs)) {
    // Malformed or larger than known: check_attrs says which.
  }
  call.label = variant_name(s, call.attrs);
  if (auto st = check_attrs(s, attrs, call)) return st;
  call.label = variant_name(s, call.attrs);
  if (count != s.slots.size()) {
    std::string names;
    for (const Slot& slot : s.slots) names += (names.empty() ? "" : ", ") + std::string(slot.name);
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "takes %zu tensors (%s), got %u",
                     s.slots.size(), names.c_str(), count);
  }
  if (count && !tensors) return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "tensors is NULL");
  call.slot_count = count;
  chorus_device_t handle{queue->device};
  for (uint32_t i = 0; i < count; ++i) {
    const Slot& slot = s.slots[i];
    SlotLayout& layout = plan->slots[i];
    if (!tensors[i]) {
      if (slot.optional) continue;
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "%s is NULL", slot.name);
    }
    int64_t span = 0;
    if (auto st = take_view(call.label.c_str(), slot.name, *tensors[i], &handle, &call.views[i],
                            &span))
      return st;
    call.views[i].source = static_cast<int32_t>(i);
    const chorus_tensor& t = *tensors[i];
    layout.present = true;
    layout.dtype = t.dtype;
    layout.rank = t.rank;
    std::copy(t.shape, t.shape + t.rank, layout.shape);
    std::copy(t.strides, t.strides + t.rank, layout.strides);
    layout.offset = t.offset;
    layout.span = span;
    layout.footprint = footprint(call.views[i]);
  }
  if (auto st = check_dtypes(call)) return st;
  if (s.normalise)
    if (auto st = s.normalise(call)) return st;

  // Aliasing, by the rules of the op's slots, on the views as normalise()
  // left them (inputs broadcast to the output): layout facts now, buffer
  // facts at every execution (and once below, for a message at creation).
  for (uint32_t o = 0; o < count; ++o) {
    if (!call.views[o].present || !is_output(s.slots[o].role)) continue;
    if (auto st = check_self_overlap(call.label.c_str(), s.slots[o].name, call.views[o])) return st;
    for (uint32_t i = 0; i < count; ++i) {
      if (i == o || !call.views[i].present) continue;
      if (is_output(s.slots[i].role) && i < o) continue;  // each pair of outputs once
      AliasRule rule;
      rule.output = o;
      rule.input = i;
      rule.identical_allowed =
          (s.slots[o].in_place_with & (1u << i)) && same_layout(call.views[o], call.views[i]);
      plan->aliases.push_back(rule);
    }
  }

  plan->kind = s.kind;
  plan->label = call.label;
  plan->numerics = call.numerics;
  plan->slot_count = count;
  Build b;
  b.device = device;
  b.numerics = call.numerics;
  b.plan = plan.get();
  if (auto st = build_call(b, call)) return st;
  if (plan->steps.empty()) plan->path = CHORUS_OP_PATH_NONE;
  if (plan->description.empty())
    plan->description = plan->path == CHORUS_OP_PATH_NATIVE ? call.label + " (native)"
                        : plan->path == CHORUS_OP_PATH_NONE ? call.label + " (nothing to run)"
                                                            : call.label;
  *out = std::move(plan);
  return CHORUS_OK;
}

// ---------------------------------------------------------------- execute

chorus_status ensure_scratch(chorus_queue queue, uint64_t bytes) {
  if (bytes == 0 || queue->scratch_bytes >= bytes) return CHORUS_OK;
  const chorus_backend_vtable* vt = queue->device->plugin->vtable;
  if (queue->scratch) {
    // Ops already enqueued may still use the old scratch.
    fail(CHORUS_OK, "");
    if (const chorus_status s = vt->queue_sync(queue->handle)) return s;
    vt->buffer_destroy(queue->device->handle, queue->scratch);
    queue->scratch = nullptr;
    queue->scratch_bytes = 0;
  }
  const uint64_t want = std::max<uint64_t>(bytes, 1 << 16);
  fail(CHORUS_OK, "");
  if (const chorus_status s = vt->buffer_create(queue->device->handle, want, &queue->scratch)) {
    queue->scratch = nullptr;
    return failf(s, "allocating %llu bytes of scratch for a composite: %s",
                 static_cast<unsigned long long>(want), chorus_last_error_message());
  }
  queue->scratch_bytes = want;
  return CHORUS_OK;
}

// Runs a plan with the call's tensors. `layouts_known`: the plan cache found
// the plan by these very layouts, so they need no comparing.
chorus_status execute_plan(const Plan& plan, chorus_queue queue, uint32_t count,
                           const chorus_tensor* const* tensors, bool layouts_known) {
  const char* op = plan.label.c_str();
  if (count != plan.slot_count)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: the plan takes %u tensors, got %u", op,
                 plan.slot_count, count);
  const OpSchema* s = find_op(plan.kind);
  int64_t delta[kMaxSlots] = {};
  void* handles[kMaxSlots] = {};
  for (uint32_t i = 0; i < count; ++i) {
    const SlotLayout& l = plan.slots[i];
    const chorus_tensor* t = tensors ? tensors[i] : nullptr;
    const char* arg = s->slots[i].name;
    if (!l.present) {
      if (t)
        return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s: %s is given but the plan was made without it", op, arg);
      continue;
    }
    if (!t) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s is NULL", op, arg);
    if (!layouts_known) {
      bool same = t->dtype == l.dtype && t->rank == l.rank;
      for (uint32_t k = 0; same && k < l.rank; ++k)
        same = t->shape[k] == l.shape[k] && t->strides[k] == l.strides[k];
      if (!same)
        return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                     "%s: %s is %s %s with strides %s, but the plan was made for %s %s with "
                     "strides %s",
                     op, arg, chorus_dtype_name(t->dtype),
                     shape_text(std::min<uint32_t>(t->rank, CHORUS_MAX_RANK), t->shape).c_str(),
                     shape_text(std::min<uint32_t>(t->rank, CHORUS_MAX_RANK), t->strides).c_str(),
                     chorus_dtype_name(l.dtype), shape_text(l.rank, l.shape).c_str(),
                     shape_text(l.rank, l.strides).c_str());
    }
    if (!t->buffer) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.buffer is NULL", op, arg);
    if (t->buffer->device != queue->device)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s lives on %s but the queue is on %s", op,
                   arg, t->buffer->device->info.name, queue->device->info.name);
    if (t->offset < 0)
      return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s.offset is %lld; it must be >= 0", op, arg,
                   static_cast<long long>(t->offset));
    // The view fits when offset + span elements do (overflow-safe); the
    // full message is check_fits's.
    int64_t end = 0, bytes = 0;
    if (l.span != 0 &&
        (__builtin_add_overflow(t->offset, l.span, &end) ||
         __builtin_mul_overflow(end, static_cast<int64_t>(chorus_dtype_size(l.dtype)), &bytes) ||
         static_cast<uint64_t>(bytes) > t->buffer->bytes)) {
      View v;
      v.dtype = l.dtype;
      v.rank = l.rank;
      std::copy(l.shape, l.shape + l.rank, v.shape);
      std::copy(l.strides, l.strides + l.rank, v.strides);
      v.offset = t->offset;
      return check_fits(op, arg, v, l.span, t->buffer->bytes);
    }
    delta[i] = t->offset - l.offset;
    handles[i] = t->buffer->handle;
  }
  for (const AliasRule& r : plan.aliases) {
    const chorus_tensor* o = tensors[r.output];
    const chorus_tensor* in = tensors[r.input];
    if (o->buffer != in->buffer) continue;
    const SlotLayout& lo = plan.slots[r.output];
    const SlotLayout& li = plan.slots[r.input];
    if (lo.footprint.empty || li.footprint.empty) continue;
    if (r.identical_allowed && o->offset == in->offset) continue;
    const int64_t oa = o->offset * static_cast<int64_t>(chorus_dtype_size(lo.dtype));
    const int64_t ia = in->offset * static_cast<int64_t>(chorus_dtype_size(li.dtype));
    if (oa + lo.footprint.last_byte < ia || ia + li.footprint.last_byte < oa) continue;
    const char* out_name = s->slots[r.output].name;
    const char* in_name = s->slots[r.input].name;
    if (s->slots[r.output].in_place_with & (1u << r.input))
      return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                   "%s: %s overlaps %s without being the same view; use the identical view for "
                   "an in-place op, or separate memory",
                   op, out_name, in_name);
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: %s overlaps %s; %s cannot run %s", op,
                 out_name, in_name, op,
                 is_output(s->slots[r.input].role) ? "with overlapping outputs" : "in place");
  }
  if (plan.scratch_bytes)
    if (auto st = ensure_scratch(queue, plan.scratch_bytes)) return st;

  const chorus_backend_vtable* vt = queue->device->plugin->vtable;
  chorus_backend_binding bindings[kMaxSlots];
  for (const Step& step : plan.steps) {
    for (uint32_t t = 0; t < step.count; ++t) {
      const int32_t src = step.source[t];
      if (src == kNoSource) {
        bindings[t] = {nullptr, 0};
      } else if (src == kTempSource) {
        bindings[t] = {queue->scratch, step.offset[t]};
      } else {
        bindings[t] = {handles[src], step.offset[t] + delta[src]};
      }
    }
    int64_t loop_count = 1;
    for (uint32_t k = 0; k < step.loop_rank; ++k) loop_count *= step.loop_shape[k];
    for (int64_t iteration = 0; iteration < loop_count; ++iteration) {
      chorus_backend_binding run[kMaxSlots];
      std::copy(bindings, bindings + step.count, run);
      int64_t rest = iteration;
      for (uint32_t k = step.loop_rank; k-- > 0;) {
        const int64_t index = rest % step.loop_shape[k];
        rest /= step.loop_shape[k];
        for (uint32_t t = 0; t < step.count; ++t) run[t].offset += index * step.loop_strides[t][k];
      }
      fail(CHORUS_OK, "");
      const chorus_status st = vt->op_execute(queue->handle, step.op->handle, run, step.count);
      if (st != CHORUS_OK) {
        const std::string why = chorus_last_error_message();
        return failf(st, "%s on %s: %s", op, queue->device->info.name,
                     why.empty() ? chorus_status_name(st) : why.c_str());
      }
    }
  }
  return CHORUS_OK;
}

// ------------------------------------------------------------- cache keys

constexpr uint32_t kKeyWords = 4 + kMaxAttrsSize / 8 + kMaxSlots * (1 + 2 * CHORUS_MAX_RANK);

struct Key {
  uint64_t words[kKeyWords];
  uint32_t n = 0;
  uint64_t hash = 0;
};

// The cache key of a call, or false when the call is malformed in a way the
// slow path must report (it then never reaches the cache).
bool make_key(const OpSchema& s, uint32_t numerics, const void* attrs, uint32_t count,
              const chorus_tensor* const* tensors, Key* key) {
  if (count != s.slots.size() || (count && !tensors)) return false;
  alignas(8) unsigned char full[kMaxAttrsSize];
  const uint32_t attr_words_needed = (s.attrs_size + 7) / 8;
  if (attr_words_needed) std::memset(full + (attr_words_needed - 1) * 8, 0, 8);  // the tail word
  if (!copy_attrs(s, attrs, full)) return false;
  uint32_t n = 0;
  key->words[n++] = static_cast<uint64_t>(s.kind) | static_cast<uint64_t>(numerics) << 32;
  const uint32_t attr_words = (s.attrs_size + 7) / 8;
  std::memcpy(&key->words[n], full, attr_words * 8);
  n += attr_words;
  for (uint32_t i = 0; i < count; ++i) {
    const chorus_tensor* t = tensors[i];
    if (!t) {
      key->words[n++] = 0;
      continue;
    }
    if (t->rank > CHORUS_MAX_RANK) return false;
    int32_t dtype;
    std::memcpy(&dtype, &t->dtype, sizeof dtype);
    key->words[n++] = 1 | static_cast<uint64_t>(static_cast<uint32_t>(dtype)) << 8 |
                      static_cast<uint64_t>(t->rank) << 40;
    std::memcpy(&key->words[n], t->shape, t->rank * sizeof(int64_t));
    n += t->rank;
    std::memcpy(&key->words[n], t->strides, t->rank * sizeof(int64_t));
    n += t->rank;
  }
  uint64_t h = 0x9E3779B97F4A7C15ull;
  for (uint32_t i = 0; i < n; ++i) {
    h ^= key->words[i] + 0x9E3779B97F4A7C15ull + (h << 6) + (h >> 2);
    h *= 0xBF58476D1CE4E5B9ull;
  }
  key->n = n;
  key->hash = h ^ (h >> 31);
  return true;
}

chorus_status unknown_kind(const char* function, int32_t raw) {
  return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: op kind %d is not one this libchorus (%s) knows",
               function, raw, chorus_version_string());
}

const OpSchema* schema_of(int32_t raw) {
  if (raw <= CHORUS_OP_INVALID || raw >= CHORUS_OP_COUNT_) return nullptr;
  return find_op(static_cast<chorus_op_kind>(raw));
}

void fill_info(const Plan& p, chorus_plan_info* info) {
  const uint32_t size = info->struct_size;
  chorus_plan_info full{};
  full.struct_size = sizeof full;
  full.kind = p.kind;
  full.path = p.path;
  full.steps = static_cast<uint32_t>(p.steps.size());
  full.scratch_bytes = p.scratch_bytes;
  std::snprintf(full.description, sizeof full.description, "%s", p.description.c_str());
  std::memcpy(info, &full, std::min<size_t>(size, sizeof full));
  info->struct_size = size;
}

}  // namespace

chorus_status run_op_with_attrs(chorus_queue queue, int32_t kind, const void* attrs,
                                const char* attrs_type,
                                std::initializer_list<const chorus_tensor*> tensors) {
  if (!attrs) {
    const OpSchema* s = schema_of(kind);
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: attrs is NULL (a %s)", s ? s->name : "op",
                 attrs_type);
  }
  return run_op(queue, kind, attrs, tensors);
}

chorus_status run_op(chorus_queue queue, int32_t kind, const void* attrs, uint32_t count,
                     const chorus_tensor* const* tensors) {
  const OpSchema* s = schema_of(kind);
  if (!s) return unknown_kind("chorus_op_run", kind);
  if (!queue) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "%s: queue is NULL", s->name);
  DeviceState& device = *queue->device;
  Key key;
  const bool keyed = make_key(*s, queue->numerics_requested, attrs, count, tensors, &key);
  std::shared_ptr<const Plan> plan;
  if (keyed) plan = device.plans.find(key.words, key.n, key.hash);
  const bool hit = plan != nullptr;
  if (!hit) {
    std::shared_ptr<Plan> made;
    if (auto st = make_plan(queue, *s, attrs, count, tensors, &made)) return st;
    plan = made;
    if (keyed) device.plans.insert(key.words, key.n, key.hash, plan);
  }
  if (auto st = execute_plan(*plan, queue, count, tensors, hit)) return st;
  if (queue->last != plan) queue->last = std::move(plan);  // no refcount traffic in a loop
  return CHORUS_OK;
}

}  // namespace chorus::core

using namespace chorus::core;

extern "C" {

CHORUS_API chorus_status chorus_op_run(chorus_queue queue, chorus_op_kind kind, const void* attrs,
                                       uint32_t tensor_count, const chorus_tensor* const* tensors) {
  int32_t raw;  // any value a C caller passes, checked as an integer
  std::memcpy(&raw, &kind, sizeof raw);
  return run_op(queue, raw, attrs, tensor_count, tensors);
}

CHORUS_API chorus_status chorus_plan_create(chorus_queue queue, chorus_op_kind kind,
                                            const void* attrs, uint32_t tensor_count,
                                            const chorus_tensor* const* tensors,
                                            chorus_plan* out) {
  if (!out) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plan_create: out is NULL");
  *out = nullptr;
  int32_t raw;  // any value a C caller passes, checked as an integer
  std::memcpy(&raw, &kind, sizeof raw);
  const OpSchema* s = schema_of(raw);
  if (!s) return unknown_kind("plan_create", raw);
  if (!queue) return failf(CHORUS_ERROR_INVALID_ARGUMENT, "plan_create: queue is NULL");
  std::shared_ptr<Plan> plan;
  if (auto st = make_plan(queue, *s, attrs, tensor_count, tensors, &plan)) return st;
  *out = new chorus_plan_t{queue->device, std::move(plan)};
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_plan_execute(chorus_plan plan, chorus_queue queue,
                                             uint32_t tensor_count,
                                             const chorus_tensor* const* tensors) {
  if (!plan) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plan_execute: plan is NULL");
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plan_execute: queue is NULL");
  if (queue->device != plan->device)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "plan_execute: the plan belongs to %s but the queue to %s",
                 plan->device->info.name, queue->device->info.name);
  if (queue->numerics_requested != plan->plan->numerics)
    return failf(CHORUS_ERROR_INVALID_ARGUMENT,
                 "plan_execute: the plan was made for numerics 0x%x but the queue asks for 0x%x",
                 plan->plan->numerics, queue->numerics_requested);
  if (auto st = execute_plan(*plan->plan, queue, tensor_count, tensors, false)) return st;
  queue->last = plan->plan;
  return CHORUS_OK;
}

CHORUS_API void chorus_plan_destroy(chorus_plan plan) {
  delete plan;
}

CHORUS_API chorus_status chorus_plan_info_get(chorus_plan plan, chorus_plan_info* info) {
  if (!plan) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "plan_info_get: plan is NULL");
  if (!info || info->struct_size < sizeof(uint32_t))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "plan_info_get: info is NULL or info->struct_size is not set");
  fill_info(*plan->plan, info);
  return CHORUS_OK;
}

CHORUS_API chorus_status chorus_queue_last_op(chorus_queue queue, chorus_plan_info* info) {
  if (!queue) return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_last_op: queue is NULL");
  if (!info || info->struct_size < sizeof(uint32_t))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "queue_last_op: info is NULL or info->struct_size is not set");
  if (!queue->last)
    return fail(CHORUS_ERROR_INVALID_ARGUMENT, "queue_last_op: no op has run on this queue");
  fill_info(*queue->last, info);
  return CHORUS_OK;
}

}  // extern "C"
