// test_gpu_plugins.cpp — the CUDA and HIP plugins through the registry:
// both load and, where their driver or device is missing, say why and
// refuse to open; where there is a device, it opens. On a machine with a
// GPU the plugins' ops are checked by the conformance suite
// (conformance.cuda, conformance.hip).
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cstring>
#include <string>

namespace {

chorus_plugin_info find_plugin(chorus_context context, const std::string& name) {
  uint32_t count = 0;
  REQUIRE(chorus_context_plugin_count(context, &count) == CHORUS_OK);
  for (uint32_t i = 0; i < count; ++i) {
    chorus_plugin_info info{};
    REQUIRE(chorus_context_plugin_info(context, i, &info) == CHORUS_OK);
    if (name == info.name) return info;
  }
  FAIL("plugin " << name << " was not loaded (is libchorus-" << name << ".so built?)");
  return {};
}

}  // namespace

TEST_CASE("the cuda and hip plugins load and explain why they cannot run", "[gpu]") {
  chorus_context context = nullptr;
  REQUIRE(chorus_context_create(nullptr, &context) == CHORUS_OK);
  for (const std::string name : {"cuda", "hip"}) {
    INFO("plugin " << name);
    const chorus_plugin_info info = find_plugin(context, name);
    if (info.usable && info.device_count > 0) {
      // A machine with the driver and a device: opening must work.
      chorus_device device = nullptr;
      CHECK(chorus_device_open(context, (name + ":0").c_str(), &device) == CHORUS_OK);
      if (device) chorus_device_close(device);
      continue;
    }
    CHECK(info.status == CHORUS_ERROR_UNAVAILABLE);
    CHECK(std::strlen(info.reason) > 10);
    chorus_device device = nullptr;
    const chorus_status s = chorus_device_open(context, (name + ":0").c_str(), &device);
    CHECK(s != CHORUS_OK);
    CHECK(device == nullptr);
    const std::string message = chorus_last_error_message();
    CHECK(message.find(name) != std::string::npos);
    CHECK(message.find(info.reason) != std::string::npos);
  }
  chorus_context_destroy(context);
}
