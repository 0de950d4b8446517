// op_view.hpp — a normalised op bound to memory, for backends that run ops
// on the host or through pointers (the reference, Kokkos, the test plugins):
// the record op_create received, kept, and at each op_execute the tensors
// with their buffer pointers and offsets filled in. Header-only: plugins
// must not depend on libchorus's symbols.
#pragma once

#include <chorus/backend.h>

#include <cstring>
#include <vector>

namespace chorus {

constexpr uint32_t kMaxOpTensors = 16;

// One execution of an op: what a backend's op function reads.
struct BoundOp {
  chorus_op_kind kind = CHORUS_OP_INVALID;
  uint32_t numerics = 0;
  uint32_t count = 0;
  // Only the first `count` are set (bind() fills them; filling all sixteen,
  // 2.4 KB, would be most of a small op's host time).
  chorus_backend_tensor tensors[kMaxOpTensors];
  const void* attrs = nullptr;
  uint32_t attrs_size = 0;

  template <typename A>
  const A& attrs_as() const {
    return *static_cast<const A*>(attrs);
  }
  const chorus_backend_tensor& operator[](uint32_t i) const { return tensors[i]; }
  // Whether optional tensor i was given.
  bool has(uint32_t i) const { return i < count && tensors[i].dtype != CHORUS_DTYPE_INVALID; }
  // Appends tensor t (for code that builds a BoundOp by hand).
  void push(const chorus_backend_tensor& t) { tensors[count++] = t; }
};

// What op_create keeps: a copy of the record (its arrays included).
class KeptOp {
 public:
  explicit KeptOp(const chorus_op_record& r)
      : kind_(r.kind),
        numerics_(r.numerics),
        tensors_(r.tensors, r.tensors + r.tensor_count),
        attrs_(static_cast<const unsigned char*>(r.attrs),
               static_cast<const unsigned char*>(r.attrs) + (r.attrs ? r.attrs_size : 0)) {}

  chorus_op_kind kind() const { return kind_; }
  uint32_t count() const { return static_cast<uint32_t>(tensors_.size()); }

  // The op with bindings[i] applied: buffer through memory(handle) (a host or
  // device pointer), offset as given.
  template <typename Memory>
  BoundOp bind(const chorus_backend_binding* bindings, Memory&& memory) const {
    BoundOp op;
    op.kind = kind_;
    op.numerics = numerics_;
    op.count = count();
    for (uint32_t i = 0; i < op.count && i < kMaxOpTensors; ++i) {
      op.tensors[i] = tensors_[i];
      op.tensors[i].buffer = bindings[i].buffer ? memory(bindings[i].buffer) : nullptr;
      op.tensors[i].offset = bindings[i].offset;
    }
    op.attrs = attrs_.empty() ? nullptr : attrs_.data();
    op.attrs_size = static_cast<uint32_t>(attrs_.size());
    return op;
  }

 private:
  chorus_op_kind kind_;
  uint32_t numerics_;
  std::vector<chorus_backend_tensor> tensors_;
  std::vector<unsigned char> attrs_;
};

}  // namespace chorus
