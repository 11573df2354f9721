// Checks a stream of OpenAI chat.completion.chunk (or text_completion) objects made by a translator
// against what OpenAI clients rely on: valid JSON; the stream's id, created and object in every chunk
// but an error one; tool calls with dense indices, id and name in each call's first fragment; at most
// one finish chunk and one usage chunk; nothing after an error chunk. Fuzzing only; one thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "fuzz_support.hpp"

namespace switchyard::fuzz {

class OpenAiChunkCheck {
 public:
  OpenAiChunkCheck(std::string id, std::int64_t created, std::string object)
      : id_(std::move(id)), created_(created), object_(std::move(object)) {}

  void check_chunk(const boost::json::object& chunk) {
    check_serialises(chunk, "a chunk serialises to valid JSON");
    check(!errored_, "nothing after an error chunk");
    if (const auto* error = chunk.if_contains("error")) {
      check(error->is_object() && error->get_object().contains("message"), "an error chunk is {error:{message}}");
      errored_ = true;
      return;
    }
    check(string_member(chunk, "id") == id_, "every chunk carries the stream's id");
    check(integer(chunk.if_contains("created")) == created_, "every chunk carries created");
    check(string_member(chunk, "object") == object_, "every chunk has the stream's object type");
    const auto* choices = chunk.if_contains("choices");
    check(choices && choices->is_array(), "every chunk has a choices array");
    if (choices->get_array().empty()) {
      check(chunk.contains("usage"), "a chunk without choices is the usage chunk");
      check(!saw_usage_chunk_, "at most one usage chunk");
      saw_usage_chunk_ = true;
      return;
    }
    for (const auto& choice : choices->get_array()) {
      check(choice.is_object(), "a choice is an object");
      const auto& c = choice.get_object();
      if (const auto* finish = c.if_contains("finish_reason"); finish && !finish->is_null()) {
        check(finish->is_string(), "finish_reason is a string or null");
        check(!saw_finish_, "at most one finish chunk");
        saw_finish_ = true;
      }
      if (const auto* delta = c.if_contains("delta"); delta && delta->is_object()) check_delta(delta->get_object());
    }
  }

  bool errored() const { return errored_; }
  bool saw_finish() const { return saw_finish_; }

 private:
  void check_delta(const boost::json::object& delta) {
    const auto* calls = delta.if_contains("tool_calls");
    if (calls == nullptr) return;
    check(calls->is_array(), "tool_calls is an array");
    for (const auto& call : calls->get_array()) {
      check(call.is_object(), "a tool call fragment is an object");
      const auto& c = call.get_object();
      const auto index = integer(c.if_contains("index"));
      check(index && *index >= 0, "a tool call fragment has its index");
      const std::int64_t i = *index;
      check(i <= calls_, "tool call indices are dense, from 0");
      const auto* function = c.if_contains("function");
      check(!function || function->is_object(), "function is an object");
      if (function) {
        const auto* arguments = function->get_object().if_contains("arguments");
        check(!arguments || arguments->is_string(), "arguments are a string");
      }
      if (i == calls_) {
        ++calls_;
        const auto* id = c.if_contains("id");
        check(id && id->is_string(), "a tool call's first fragment has its id");
        const auto* name = function ? function->get_object().if_contains("name") : nullptr;
        check(name && name->is_string(), "a tool call's first fragment has its name");
      }
    }
  }

  std::string id_;
  std::int64_t created_;
  std::string object_;
  std::int64_t calls_ = 0;
  bool saw_finish_ = false;
  bool saw_usage_chunk_ = false;
  bool errored_ = false;
};

}  // namespace switchyard::fuzz
