// op_schema.cpp — the registry of op schemas and the public introspection
// (chorus_op_info_get). Schemas come from the families' register_schema()
// functions, which the build gathers from src/ops/*/schema.cpp into one
// generated registrar (cmake/ChorusOpFamilies.cmake); the registry fills on
// first use.
#include "core/op_schema.hpp"

#include <memory>
#include <mutex>

#include "core/error.hpp"

namespace chorus::ops {
void register_all_schema();  // generated: every family's register_schema()
}

namespace chorus::core {
namespace {

// A schema and the C views of it that chorus_op_info_get hands out.
struct Entry {
  OpSchema schema;
  std::vector<chorus_op_slot_info> slots;
  std::vector<chorus_op_attr_info> attrs;
};

struct Registry {
  std::unique_ptr<Entry> by_kind[CHORUS_OP_COUNT_];
};

Registry& registry() {
  static Registry r;
  return r;
}

void ensure_registered() {
  static std::once_flag once;
  std::call_once(once, [] { chorus::ops::register_all_schema(); });
}

}  // namespace

void register_op(OpSchema schema) {
  const int kind = schema.kind;
  if (kind <= CHORUS_OP_INVALID || kind >= CHORUS_OP_COUNT_ || registry().by_kind[kind]) {
    log(0, std::string("op schema ") + schema.name + " has a kind that is invalid or taken");
    return;
  }
  auto e = std::make_unique<Entry>();
  e->schema = std::move(schema);
  for (const Slot& s : e->schema.slots) {
    chorus_op_slot_info info{};
    info.name = s.name;
    info.role = s.role == Role::input    ? CHORUS_SLOT_INPUT
                : s.role == Role::output ? CHORUS_SLOT_OUTPUT
                                         : CHORUS_SLOT_INOUT;
    info.optional = s.optional ? 1 : 0;
    info.dtype_mask = s.dtypes;
    e->slots.push_back(info);
  }
  // A slot that takes another's dtype may hold what that one holds.
  for (size_t i = 0; i < e->slots.size(); ++i)
    if (e->schema.slots[i].same_dtype_as >= 0)
      e->slots[i].dtype_mask = e->slots[static_cast<size_t>(e->schema.slots[i].same_dtype_as)].dtype_mask;
  for (const Attr& a : e->schema.attrs) {
    chorus_op_attr_info info{};
    info.name = a.name;
    info.type = a.type;
    info.offset = a.offset;
    info.default_value = a.default_value;
    info.enum_count = static_cast<uint32_t>(a.enum_names.size());
    info.enum_names = a.enum_names.empty() ? nullptr : a.enum_names.data();
    info.enum_dtypes = a.enum_dtypes.empty() ? nullptr : a.enum_dtypes.data();
    e->attrs.push_back(info);
  }
  registry().by_kind[kind] = std::move(e);
}

const OpSchema* find_op(chorus_op_kind kind) {
  ensure_registered();
  const int k = kind;
  if (k <= CHORUS_OP_INVALID || k >= CHORUS_OP_COUNT_ || !registry().by_kind[k]) return nullptr;
  return &registry().by_kind[k]->schema;
}

std::vector<const OpSchema*> all_ops() {
  ensure_registered();
  std::vector<const OpSchema*> out;
  for (const auto& e : registry().by_kind)
    if (e) out.push_back(&e->schema);
  return out;
}

}  // namespace chorus::core

extern "C" {

CHORUS_API chorus_status chorus_op_info_get(chorus_op_kind kind, chorus_op_info* info) {
  using namespace chorus::core;
  if (!info || info->struct_size < sizeof(uint32_t))
    return fail(CHORUS_ERROR_INVALID_ARGUMENT,
                "op_info_get: info is NULL or info->struct_size is not set");
  int32_t raw;
  std::memcpy(&raw, &kind, sizeof raw);
  ensure_registered();
  if (raw <= CHORUS_OP_INVALID || raw >= CHORUS_OP_COUNT_ || !registry().by_kind[raw])
    return failf(CHORUS_ERROR_INVALID_ARGUMENT, "op_info_get: op kind %d is not one this libchorus knows",
                 raw);
  const Entry& e = *registry().by_kind[raw];
  chorus_op_info full{};
  full.struct_size = sizeof full;
  full.kind = e.schema.kind;
  full.name = e.schema.name;
  full.family = e.schema.family;
  full.summary = e.schema.summary;
  full.attrs_size = e.schema.attrs_size;
  full.slot_count = static_cast<uint32_t>(e.slots.size());
  full.slots = e.slots.data();
  full.attr_count = static_cast<uint32_t>(e.attrs.size());
  full.attrs = e.attrs.empty() ? nullptr : e.attrs.data();
  full.composite_count = static_cast<uint32_t>(e.schema.composites.size());
  const uint32_t size = info->struct_size;
  std::memcpy(info, &full, std::min<size_t>(size, sizeof full));
  info->struct_size = size;
  return CHORUS_OK;
}

}  // extern "C"
