#include "local/llama_command.hpp"

#include <string_view>

namespace switchyard {

std::vector<std::string> llama_server_args(const std::string& alias, const LocalModelConfig& model, std::uint16_t port) {
  const auto& p = model.params;
  std::vector<std::string> args{"--model", model.model_path, "--host", "127.0.0.1", "--port", std::to_string(port),
                                "--alias", alias};
  const auto add = [&](const char* flag, const std::string& value) {
    args.emplace_back(flag);
    args.push_back(value);
  };
  add("--n-gpu-layers", std::to_string(p.n_gpu_layers));
  add("--ctx-size", std::to_string(p.n_ctx));
  add("--parallel", std::to_string(p.parallel));
  if (!p.flash_attention.empty()) add("--flash-attn", p.flash_attention);
  if (p.type_k != "f16") add("--cache-type-k", p.type_k);
  if (p.type_v != "f16") add("--cache-type-v", p.type_v);
  if (p.embedding) args.emplace_back("--embedding");
  if (p.threads > 0) add("--threads", std::to_string(p.threads));
  if (p.batch_size > 0) add("--batch-size", std::to_string(p.batch_size));
  if (p.ubatch_size > 0) add("--ubatch-size", std::to_string(p.ubatch_size));
  args.insert(args.end(), p.extra_args.begin(), p.extra_args.end());
  return args;
}

std::vector<std::string> extra_model_files(const LocalModelConfig& model) {
  static constexpr std::string_view kFlags[] = {"--mmproj", "-mm", "--model-draft", "-md"};
  std::vector<std::string> files;
  const auto& args = model.params.extra_args;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    for (const auto flag : kFlags) {
      if (arg == flag && i + 1 < args.size()) {
        files.push_back(args[++i]);
      } else if (arg.size() > flag.size() + 1 && arg.starts_with(flag) && arg[flag.size()] == '=') {
        files.emplace_back(arg.substr(flag.size() + 1));
      } else {
        continue;
      }
      break;
    }
  }
  return files;
}

}  // namespace switchyard
