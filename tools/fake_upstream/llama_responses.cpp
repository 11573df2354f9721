// llama-server's /v1/models, /props, /slots and /metrics bodies (see llama_responses.hpp).
#include "llama_responses.hpp"

#include "llama_args.hpp"

#include <boost/json.hpp>

#include <chrono>

namespace fake_upstream {
namespace {

boost::json::object slot_params() {
  boost::json::object p;
  p["n_predict"] = -1;
  p["temperature"] = 0.8;
  p["top_k"] = 40;
  p["top_p"] = 0.95;
  p["min_p"] = 0.05;
  p["stream"] = true;
  return p;
}

boost::json::object slot_json(const SlotGate& slots, int i) {
  const SlotGate::Slot& s = slots.slot(i);
  boost::json::object o;
  o["id"] = i;
  o["id_task"] = s.task;
  o["n_ctx"] = slots.slot_ctx();
  o["speculative"] = false;
  o["is_processing"] = s.busy;
  o["params"] = slot_params();
  boost::json::object next;
  next["has_next_token"] = s.busy;
  next["has_new_line"] = false;
  next["n_remain"] = s.busy ? s.planned_tokens : -1;
  next["n_decoded"] = 0;
  o["next_token"] = std::move(next);
  return o;
}

void metric(std::string& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  out += "# HELP llamacpp:";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE llamacpp:";
  out += name;
  out += ' ';
  out += type;
  out += "\nllamacpp:";
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

std::string llama_models_body(const Options& options, bool loaded) {
  const LlamaServer& l = options.llama;
  boost::json::object m;
  m["id"] = l.model_id;
  m["object"] = "model";
  m["created"] = std::chrono::duration_cast<std::chrono::seconds>(
                     std::chrono::system_clock::now().time_since_epoch())
                     .count();
  m["owned_by"] = "llamacpp";
  if (loaded) {
    boost::json::object meta;
    meta["vocab_type"] = 2;
    meta["n_vocab"] = 32000;
    meta["n_ctx_train"] = kTrainContext;
    meta["n_embd"] = 4096;
    meta["n_params"] = 7'000'000'000LL;
    meta["size"] = l.model_size;
    m["meta"] = std::move(meta);
  } else {
    m["meta"] = nullptr;
  }
  boost::json::array data;
  data.push_back(std::move(m));
  boost::json::object o;
  o["object"] = "list";
  o["data"] = std::move(data);
  return boost::json::serialize(o);
}

std::string llama_props_body(const Options& options, const SlotGate& slots) {
  const LlamaServer& l = options.llama;
  boost::json::object settings;
  settings["id"] = 0;
  settings["id_task"] = -1;
  settings["n_ctx"] = slots.slot_ctx();
  settings["speculative"] = false;
  settings["is_processing"] = false;
  settings["params"] = slot_params();
  boost::json::object o;
  o["default_generation_settings"] = std::move(settings);
  o["total_slots"] = slots.total();
  o["model_alias"] = l.model_id;
  o["model_path"] = l.model_path;
  boost::json::object modalities;
  modalities["vision"] = false;
  modalities["audio"] = false;
  o["modalities"] = std::move(modalities);
  o["chat_template"] = "{{ fake }}";
  o["bos_token"] = "<s>";
  o["eos_token"] = "</s>";
  o["build_info"] = "b0-fake";
  o["is_sleeping"] = false;
  return boost::json::serialize(o);
}

std::string llama_slots_body(const SlotGate& slots) {
  boost::json::array a;
  for (int i = 0; i < slots.total(); ++i) {
    a.push_back(slot_json(slots, i));
  }
  return boost::json::serialize(a);
}

std::string llama_metrics_body(const LlamaCounters& counters, const SlotGate& slots) {
  std::string out;
  metric(out, "prompt_tokens_total", "counter", "Number of prompt tokens processed.",
         counters.prompt_tokens);
  metric(out, "tokens_predicted_total", "counter", "Number of generation tokens processed.",
         counters.predicted_tokens);
  metric(out, "n_decode_total", "counter", "Total number of llama_decode() calls",
         counters.decodes);
  metric(out, "n_tokens_max", "counter", "Largest observed n_tokens.",
         static_cast<std::uint64_t>(slots.slot_ctx()));
  metric(out, "requests_processing", "gauge", "Number of requests processing.",
         static_cast<std::uint64_t>(slots.busy()));
  metric(out, "requests_deferred", "gauge", "Number of requests deferred.",
         static_cast<std::uint64_t>(slots.deferred()));
  return out;
}

}  // namespace fake_upstream
