// switchyard: the gateway binary. Parses the command line, loads the config and runs the App.
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <iostream>

#include "app/app.hpp"
#include "config/config_loader.hpp"
#include "local/model_manager.hpp"
#include "telemetry/logging.hpp"

int main(int argc, char** argv) {
  CLI::App cli{"Switchyard: one OpenAI-compatible endpoint in front of your LLM servers and providers."};
  std::string config_path = "switchyard.yaml";
  bool check_only = false;
  bool show_version = false;
  cli.add_option("-c,--config", config_path, "YAML (or JSON) config file")->capture_default_str();
  cli.add_flag("--check-config", check_only, "validate the config file and exit (0 when valid)");
  cli.add_flag("-V,--version", show_version, "print the version and exit");
  CLI11_PARSE(cli, argc, argv);

  if (show_version) {
    std::printf("switchyard %s\n", SWITCHYARD_VERSION);
    return 0;
  }

  std::shared_ptr<const switchyard::Config> config;
  try {
    auto loaded = switchyard::load_config_file(config_path);
    if (!check_only) switchyard::assign_local_ports(loaded);
    config = std::make_shared<const switchyard::Config>(std::move(loaded));
  } catch (const switchyard::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 2;
  }
  if (check_only) {
    std::printf("%s: OK (%zu upstreams, %zu models)\n", config_path.c_str(), config->upstreams.size(),
                config->models.size());
    return 0;
  }

  switchyard::configure_logging(config->logging.level);
  try {
    switchyard::App app(config);
    const auto port = app.start();
    const auto& host = config->server.listen_host;
    const bool ipv6 = host.find(':') != std::string::npos;
    std::printf("listening on http://%s%s%s:%u\n", ipv6 ? "[" : "", host.c_str(), ipv6 ? "]" : "", port);
    std::fflush(stdout);
    spdlog::info("switchyard {} serving {} model(s) through {} upstream(s)", SWITCHYARD_VERSION,
                 config->models.size(), config->upstreams.size());
    return app.run_until_signal();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
}
