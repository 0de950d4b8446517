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
  CHECK(reason.find(std::to_string(CHORUS_BACKEND_ABI_VERSION + 98)) != std::string::npos);
  CHECK(reason.find("version " + std::to_string(CHORUS_BACKEND_ABI_VERSION)) != std::string::npos);
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
