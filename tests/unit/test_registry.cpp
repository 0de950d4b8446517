// test_registry.cpp — plugin discovery, ABI checks, device naming and the
// rule that a named device never silently falls back to another.
// CTest sets CHORUS_PLUGIN_PATH to the folder of the test-only plugins.
#include <chorus/backend.h>

#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cstdlib>
#include <string>

namespace {

const chorus_plugin_info* find_plugin(const std::vector<chorus_plugin_info>& plugins,
                                      const std::string& name) {
  for (const auto& p : plugins)
    if (name == p.name) return &p;
  return nullptr;
}

chorus_status open_status(const chorus::Context& ctx, const char* name, std::string* message) {
  chorus_device device = nullptr;
  const chorus_status status = chorus_device_open(ctx.get(), name, &device);
  *message = chorus_last_error_message();
  chorus_device_close(device);
  return status;
}

}  // namespace

TEST_CASE("the reference backend is built in and always usable") {
  chorus::Context ctx;
  const auto plugins = ctx.plugins();
  const auto* reference = find_plugin(plugins, "reference");
  REQUIRE(reference != nullptr);
  CHECK(reference->usable == 1);
  CHECK(std::string(reference->path) == "(built in)");
  CHECK(reference->device_count == 1);
}

TEST_CASE("a plugin built for another ABI version is listed unusable with both versions") {
  chorus::Context ctx;
  const auto plugins = ctx.plugins();
  const auto* bad = find_plugin(plugins, "badabi");
  REQUIRE(bad != nullptr);
  CHECK(bad->usable == 0);
  CHECK(bad->status == CHORUS_ERROR_ABI_MISMATCH);
  const std::string reason = bad->reason;
  INFO(reason);
  const std::string ours = std::to_string(CHORUS_BACKEND_ABI_MAJOR) + "." +
                           std::to_string(CHORUS_BACKEND_ABI_MINOR);
  const std::string theirs = std::to_string(CHORUS_BACKEND_ABI_MAJOR + 1) + ".0";
  CHECK(reason.find("plugin ABI version " + theirs) != std::string::npos);
  CHECK(reason.find("needs version " + ours) != std::string::npos);
}

TEST_CASE("a plugin built for an older minor version loads and serves what it knows") {
  chorus::Context ctx;
  const auto plugins = ctx.plugins();
  const auto* old = find_plugin(plugins, "oldabi");
  REQUIRE(old != nullptr);
  INFO(old->reason);
  CHECK(old->usable == 1);
  chorus::Device device = ctx.open("oldabi:0");
  chorus::Queue queue = device.queue();
  chorus::Buffer buffer = device.buffer(16);
  const float in[4] = {1, -2, 3, -4};
  queue.write<float>(buffer, in);
  chorus::Tensor t(buffer, CHORUS_DTYPE_F32, {4});
  chorus::ops::unary(queue, CHORUS_UNARY_NEG, t, t);
  float out[4] = {};
  queue.read<float>(buffer, out);
  CHECK(out[0] == -1.0f);
  CHECK(out[3] == 4.0f);
}

TEST_CASE("a library without the entry symbol is listed unusable and harms nothing else") {
  chorus::Context ctx;
  const auto plugins = ctx.plugins();
  const auto* broken = find_plugin(plugins, "broken");
  REQUIRE(broken != nullptr);
  CHECK(broken->usable == 0);
  CHECK(std::string(broken->reason).find("chorus_backend_entry") != std::string::npos);
  const auto* td = find_plugin(plugins, "testdouble");
  REQUIRE(td != nullptr);
  CHECK(td->usable == 1);
}

TEST_CASE("devices are named backend:index") {
  chorus::Context ctx;
  bool saw_reference = false, saw_testdouble = false;
  for (const auto& d : ctx.devices()) {
    saw_reference |= std::string(d.name) == "reference:0";
    saw_testdouble |= std::string(d.name) == "testdouble:0";
  }
  CHECK(saw_reference);
  CHECK(saw_testdouble);
}

TEST_CASE("best picks the highest score") {
  chorus::Context ctx;
  // Whatever backends this machine has, best is the first usable device of
  // the highest score; the test double (score -1) never wins over reference.
  const auto devices = ctx.devices();
  const chorus_device_info* expected = nullptr;
  for (const auto& d : devices)
    if (d.usable && (!expected || d.score > expected->score)) expected = &d;
  REQUIRE(expected != nullptr);
  auto device = ctx.open("best");
  CHECK(std::string(device.info().name) == expected->name);
  CHECK(std::string(device.info().name) != "testdouble:0");
}

TEST_CASE("CHORUS_DEVICE sets the default device") {
  setenv("CHORUS_DEVICE", "testdouble:0", 1);
  chorus::Context ctx;
  auto device = ctx.open();
  unsetenv("CHORUS_DEVICE");
  CHECK(std::string(device.info().name) == "testdouble:0");
}

TEST_CASE("an unknown backend is an error naming it and the known ones") {
  chorus::Context ctx;
  std::string message;
  CHECK(open_status(ctx, "nosuch:0", &message) == CHORUS_ERROR_NOT_FOUND);
  CHECK(message.find("nosuch") != std::string::npos);
  CHECK(message.find("reference") != std::string::npos);
}

TEST_CASE("a device index past the backend's devices is an error") {
  chorus::Context ctx;
  std::string message;
  CHECK(open_status(ctx, "reference:5", &message) == CHORUS_ERROR_NOT_FOUND);
  CHECK(message.find("no index 5") != std::string::npos);
}

TEST_CASE("a named device on an unusable backend is an error, never a fallback") {
  chorus::Context ctx;
  std::string message;
  CHECK(open_status(ctx, "badabi:0", &message) == CHORUS_ERROR_ABI_MISMATCH);
  CHECK(message.find("badabi") != std::string::npos);
}

TEST_CASE("CHORUS_DISABLE_PLUGINS lists a plugin as disabled and never loads it") {
  setenv("CHORUS_DISABLE_PLUGINS", "broken,testdouble", 1);
  chorus::Context ctx;
  unsetenv("CHORUS_DISABLE_PLUGINS");
  const auto plugins = ctx.plugins();
  const auto* td = find_plugin(plugins, "testdouble");
  REQUIRE(td != nullptr);
  CHECK(td->usable == 0);
  CHECK(td->status == CHORUS_ERROR_UNAVAILABLE);
  CHECK(std::string(td->reason).find("CHORUS_DISABLE_PLUGINS") != std::string::npos);
  CHECK(td->device_count == 0);
  std::string message;
  CHECK(open_status(ctx, "testdouble:0", &message) == CHORUS_ERROR_UNAVAILABLE);
  CHECK(message.find("CHORUS_DISABLE_PLUGINS") != std::string::npos);
  // Others are untouched.
  const auto* reference = find_plugin(plugins, "reference");
  REQUIRE(reference != nullptr);
  CHECK(reference->usable == 1);
}

TEST_CASE("a malformed device name is an invalid argument") {
  chorus::Context ctx;
  std::string message;
  CHECK(open_status(ctx, "reference:x", &message) == CHORUS_ERROR_INVALID_ARGUMENT);
  CHECK(message.find("backend:index") != std::string::npos);
}

TEST_CASE("plugin_path in the context descriptor adds a folder") {
  // Without CHORUS_PLUGIN_PATH the test plugins are only found through the descriptor.
  const std::string saved =
      std::getenv("CHORUS_PLUGIN_PATH") ? std::getenv("CHORUS_PLUGIN_PATH") : "";
  unsetenv("CHORUS_PLUGIN_PATH");
  {
    chorus::Context bare;
    CHECK(find_plugin(bare.plugins(), "testdouble") == nullptr);
  }
  {
    chorus::Context with(saved);
    CHECK(find_plugin(with.plugins(), "testdouble") != nullptr);
  }
  setenv("CHORUS_PLUGIN_PATH", saved.c_str(), 1);
}

TEST_CASE("a device outlives the context that opened it") {
  chorus::Device device;
  {
    chorus::Context ctx;
    device = ctx.open("testdouble:0");
  }
  auto queue = device.queue();
  auto buffer = device.buffer(16);
  const float in[4] = {1, 2, 3, 4};
  float out[4] = {};
  queue.write<float>(buffer, in);
  queue.read<float>(buffer, out);
  CHECK(out[3] == 4.0f);
}

// The ABI 2.0 fixture's own op_supports, as libchorus 2.1 would call it.
#include <dlfcn.h>

TEST_CASE("an ABI 2.0 plugin refuses attribute fields it was built without") {
  const char* path = std::getenv("CHORUS_PLUGIN_PATH");
  REQUIRE(path != nullptr);
  const std::string file = std::string(path) + "/libchorus-oldabi.so";
  void* library = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  REQUIRE(library != nullptr);
  const auto entry =
      reinterpret_cast<chorus_backend_entry_fn>(dlsym(library, CHORUS_BACKEND_ENTRY_SYMBOL));
  REQUIRE(entry != nullptr);
  const chorus_backend_vtable* vt = entry(CHORUS_BACKEND_ABI_VERSION);
  REQUIRE(vt != nullptr);
  CHECK(vt->abi_version == 0x20000u);  // 2.0
  CHECK(entry(0) == vt);               // "describe yourself"
  CHECK(entry(3u << 16) == nullptr);   // another major: not served
  chorus_backend_tensor tensors[2] = {};
  for (auto& t : tensors) {
    t.dtype = CHORUS_DTYPE_F32;
    t.rank = 1;
    t.shape[0] = 4;
    t.strides[0] = 1;
  }
  chorus_unary_attrs attrs{sizeof attrs, CHORUS_UNARY_NEG, 0, 0};  // 2.1's 24 bytes
  chorus_op_record record{sizeof record, CHORUS_OP_UNARY, 0, 2, tensors, &attrs, sizeof attrs, 0};
  CHECK(vt->op_supports(nullptr, &record) == CHORUS_OK);  // the new fields are zero
  attrs.alpha = 0.5;  // a field the 2.0 struct did not have
  CHECK(vt->op_supports(nullptr, &record) == CHORUS_ERROR_UNSUPPORTED);
  attrs.alpha = 0;
  attrs.op = CHORUS_UNARY_SOFTPLUS;  // an op 2.0 did not have
  CHECK(vt->op_supports(nullptr, &record) == CHORUS_ERROR_UNSUPPORTED);
  record.kind = CHORUS_OP_CUMSUM;  // a kind 2.0 did not have
  CHECK(vt->op_supports(nullptr, &record) == CHORUS_ERROR_UNSUPPORTED);
  dlclose(library);
}
