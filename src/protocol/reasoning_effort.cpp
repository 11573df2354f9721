#include "protocol/reasoning_effort.hpp"

#include <boost/json.hpp>

namespace switchyard {

namespace json = boost::json;

namespace {

constexpr std::int64_t kLowBudget = 1024;  // Anthropic's minimum budget
constexpr std::int64_t kMediumBudget = 2048;
constexpr std::int64_t kHighBudget = 4096;
constexpr std::int64_t kHighestBudget = 8192;

std::string_view string_of(const json::value* value) {
  return value && value->is_string() ? std::string_view(value->get_string()) : std::string_view{};
}

}  // namespace

std::string_view requested_reasoning_effort(const json::object& openai) {
  if (const auto effort = string_of(openai.if_contains("reasoning_effort")); !effort.empty()) return effort;
  const auto* reasoning = openai.if_contains("reasoning");
  return reasoning && reasoning->is_object() ? string_of(reasoning->get_object().if_contains("effort"))
                                             : std::string_view{};
}

std::optional<std::int64_t> thinking_budget_for_effort(std::string_view effort) {
  if (effort == "none") return 0;
  if (effort == "minimal" || effort == "low") return kLowBudget;
  if (effort == "medium") return kMediumBudget;
  if (effort == "high") return kHighBudget;
  if (effort == "xhigh" || effort == "max") return kHighestBudget;
  return std::nullopt;
}

std::string_view effort_for_thinking(const json::value& thinking) {
  if (!thinking.is_object()) return {};
  const auto& t = thinking.get_object();
  const auto type = string_of(t.if_contains("type"));
  if (type == "adaptive") return "medium";
  if (type != "enabled") return {};
  const auto* budget = t.if_contains("budget_tokens");
  const std::int64_t tokens = budget && budget->is_int64() ? budget->get_int64() : kMediumBudget;
  if (tokens < kMediumBudget) return "low";
  if (tokens < kHighBudget) return "medium";
  return "high";
}

std::string_view effort_for_output_effort(const json::value* effort) {
  const auto level = string_of(effort);
  if (level == "low" || level == "medium" || level == "high") return level;
  if (level == "max") return "xhigh";
  return {};
}

json::value ollama_think_for_effort(std::string_view effort) {
  if (effort == "none") return false;
  if (effort == "minimal") return "low";
  if (effort == "low" || effort == "medium" || effort == "high") return json::string(effort);
  if (effort == "xhigh" || effort == "max" || effort == "ultra") return "max";
  return nullptr;
}

std::string_view effort_for_ollama_think(const json::value* think) {
  if (!think) return {};
  // false is the default of the models that think only when asked; sent as "none" it would be refused
  // by OpenAI models that know no reasoning_effort at all.
  if (think->is_bool()) return think->get_bool() ? "medium" : std::string_view{};
  const auto level = string_of(think);
  if (level == "low" || level == "medium" || level == "high") return level;
  if (level == "max") return "xhigh";
  return {};
}

}  // namespace switchyard
