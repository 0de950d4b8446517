// test_planner.cpp — the planner of the run-time-compiled backends
// (backends/common/op_plan.hpp and src/ops/<family>/plan.cpp) without any
// device: every op family registers its planner and variant ops; every
// variant plans under every tuning entry; a plan is made for layouts only,
// so every tensor whose buffer a launch takes has its offset patched into
// that launch's arguments, at a place that holds 8 bytes; unknown kinds and
// enum values are CHORUS_ERROR_UNSUPPORTED; and program texts come out of
// the embedded kernels with their includes expanded.
#include <catch2/catch.hpp>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "embedded_kernels.hpp"
#include "kernel_variants.hpp"
#include "op_plan.hpp"
#include "rtc.hpp"

namespace bc = chorus::backend_common;

namespace {

std::vector<std::pair<std::string, bc::DeviceTraits>> all_tunings() {
  std::vector<std::pair<std::string, bc::DeviceTraits>> out;
  bc::DeviceIdentity gpu;
  gpu.vendor = "NVIDIA Corporation";
  gpu.kind = CHORUS_DEVICE_KIND_DISCRETE_GPU;
  gpu.max_work_group_size = 1024;
  gpu.local_memory_bytes = 48 * 1024;
  bc::DeviceIdentity cpu;
  cpu.kind = CHORUS_DEVICE_KIND_CPU;
  cpu.max_work_group_size = 4096;
  cpu.local_memory_bytes = 512 * 1024;
  for (const std::string& name : bc::tuning_entry_names()) {
    bc::DeviceTraits opencl;
    opencl.tuning = bc::tuning_named(name, cpu);
    opencl.has_fp64 = true;
    out.emplace_back(name + " (opencl)", opencl);
    out.emplace_back(name + " (gpu)", chorus::gpu::gpu_traits(bc::tuning_named(name, gpu)));
  }
  return out;
}

}  // namespace

TEST_CASE("every op family plans every one of its variants", "[planner]") {
  const std::vector<bc::VariantOp> ops = bc::kernel_variant_ops();
  std::set<int> kinds;
  for (const bc::VariantOp& v : ops) kinds.insert(v.kind);
  // The ops that are composites on every backend by design (docs/design.md):
  // embedding is gather on views, group norm batch norm on a view. They
  // have no kernels, so no variants; every other kind must have some.
  const std::set<int> composites_only = {CHORUS_OP_EMBEDDING, CHORUS_OP_GROUP_NORM,
                                         CHORUS_OP_GROUP_NORM_BACKWARD};
  for (int k = CHORUS_OP_COPY; k < CHORUS_OP_COUNT_; ++k) {
    INFO("op kind " << k);
    CHECK(kinds.count(k) == (composites_only.count(k) ? 0u : 1u));
  }
  for (const auto& [name, traits] : all_tunings()) {
    INFO("tuning " << name);
    std::vector<std::string> errors;
    const auto programs = bc::kernel_variant_programs(traits, &errors);
    CHECK(errors.empty());
    CHECK(programs.size() > 50);
  }
}

TEST_CASE("each launch patches the offset of every tensor it takes", "[planner]") {
  const auto tunings = all_tunings();
  for (const bc::VariantOp& v : bc::kernel_variant_ops()) {
    const chorus_op_record record = v.record();
    bc::Plan plan;
    std::string why;
    const chorus_status s = bc::plan_op(record, tunings[0].second, &plan, &why);
    INFO("op kind " << v.kind << " (" << why << ")");
    REQUIRE(s == CHORUS_OK);
    REQUIRE_FALSE(plan.launches.empty());
    for (const bc::Launch& l : plan.launches) {
      INFO("kernel " << l.kernel);
      std::set<uint32_t> patched;
      for (const bc::OffsetPatch& p : l.patches) {
        REQUIRE(p.arg < l.args.size());
        CHECK(l.args[p.arg].kind == bc::KernelArg::Kind::bytes);
        CHECK(p.byte + 8 <= l.args[p.arg].bytes.size());
        CHECK(p.slot < record.tensor_count);
        patched.insert(p.slot);
      }
      for (const bc::KernelArg& a : l.args)
        if (a.kind == bc::KernelArg::Kind::buffer) {
          INFO("tensor slot " << a.index);
          CHECK(patched.count(static_cast<uint32_t>(a.index)) == 1);
        }
    }
  }
}

TEST_CASE("what no kernel implements is unsupported, with the reason", "[planner]") {
  const bc::DeviceTraits traits = all_tunings()[0].second;
  chorus_backend_tensor t{};
  t.dtype = CHORUS_DTYPE_F32;
  t.rank = 1;
  t.shape[0] = 4;
  t.strides[0] = 1;
  const chorus_backend_tensor tensors[2] = {t, t};
  chorus_op_record record{};
  record.struct_size = sizeof record;
  record.tensor_count = 2;
  record.tensors = tensors;
  bc::Plan plan;
  std::string why;
  SECTION("an unknown op kind") {
    record.kind = static_cast<chorus_op_kind>(CHORUS_OP_COUNT_ + 3);
    CHECK(bc::plan_op(record, traits, &plan, &why) == CHORUS_ERROR_UNSUPPORTED);
    CHECK(why.find("not one this backend knows") != std::string::npos);
  }
  SECTION("an unknown unary op") {
    chorus_unary_attrs attrs{};
    attrs.struct_size = sizeof attrs;
    attrs.op = static_cast<chorus_unary_op>(CHORUS_UNARY_COUNT_);
    record.kind = CHORUS_OP_UNARY;
    record.attrs = &attrs;
    record.attrs_size = sizeof attrs;
    CHECK(bc::plan_op(record, traits, &plan, &why) == CHORUS_ERROR_UNSUPPORTED);
    CHECK_FALSE(why.empty());
  }
  SECTION("attributes with fields this planner does not know") {
    unsigned char attrs[sizeof(chorus_unary_attrs) + 8] = {};
    chorus_unary_attrs known{};
    known.struct_size = sizeof attrs;
    known.op = CHORUS_UNARY_EXP;
    std::memcpy(attrs, &known, sizeof known);
    attrs[sizeof known + 2] = 1;
    record.kind = CHORUS_OP_UNARY;
    record.attrs = attrs;
    record.attrs_size = sizeof attrs;
    CHECK(bc::plan_op(record, traits, &plan, &why) == CHORUS_ERROR_UNSUPPORTED);
  }
  SECTION("a float-only unary op on integers") {
    chorus_backend_tensor ints[2] = {t, t};
    ints[0].dtype = ints[1].dtype = CHORUS_DTYPE_I32;
    chorus_unary_attrs attrs{};
    attrs.struct_size = sizeof attrs;
    attrs.op = CHORUS_UNARY_EXP;
    record.kind = CHORUS_OP_UNARY;
    record.tensors = ints;
    record.attrs = &attrs;
    record.attrs_size = sizeof attrs;
    CHECK(bc::plan_op(record, traits, &plan, &why) == CHORUS_ERROR_UNSUPPORTED);
  }
}

TEST_CASE("a program's text has its included kernel files expanded in place", "[planner]") {
  std::string missing;
  const std::string text = chorus::kernels::assemble_program(
      {"prelude_opencl.h", "common.h", "args.h", "elementwise.cl"}, &missing);
  CHECK(missing.empty());
  CHECK(text.find("#include \"") == std::string::npos);
  CHECK(text.find("#line 1 \"unary_table.h\"") != std::string::npos);
  CHECK(text.find("#line 1 \"binary_table.h\"") != std::string::npos);
  CHECK(text.find("UNARY_OP(CLAMP, clamp") != std::string::npos);
  // A file that is not embedded is named.
  CHECK(chorus::kernels::assemble_program({"common.h", "no_such_file.cl"}, &missing).empty());
  CHECK(missing == "no_such_file.cl");
}
