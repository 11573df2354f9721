#include "protocol/openai_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/serializer.hpp>

namespace switchyard {
namespace {

namespace json = boost::json;

bool require(JsonType actual, JsonType wanted, const char* field, const char* what, ApiError& error) {
  if (actual == wanted) return true;
  error.kind = ErrorKind::missing_field;
  error.param = field;
  error.message = actual == JsonType::absent ? std::string("Missing required parameter: '") + field + "'."
                                             : std::string("Invalid type for '") + field + "': expected " + what + ".";
  return false;
}

bool require_any(JsonType actual, std::initializer_list<JsonType> wanted, const char* field, const char* what,
                 ApiError& error) {
  for (auto w : wanted)
    if (actual == w) return true;
  return require(actual, *wanted.begin(), field, what, error);  // fails, with the message
}

// Rare path: the model string carried escapes, or stream_options needs a change inside it.
// Upstream JSON is only walked, not validated, before it gets here: a body that does not parse
// passes on unchanged.
void rewrite_with_dom(std::string_view body, std::string_view model, bool force_usage, std::string& out) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 64;  // as deep as scan_json accepts
  json::value doc = json::parse(body, ec, {}, options);
  if (ec || !doc.is_object()) {
    out.append(body);
    return;
  }
  auto& object = doc.get_object();
  object["model"] = model;
  if (force_usage) {
    auto& options = object["stream_options"];
    if (!options.is_object()) options = json::object();
    options.as_object()["include_usage"] = true;
  }
  out.append(json::serialize(doc));
}

}  // namespace

bool validate_openai_request(OpenAiEndpoint endpoint, const JsonScan& scan, ApiError& error) {
  if (!scan.valid) {
    error.kind = ErrorKind::invalid_json;
    error.message = "We could not parse the JSON body of your request: " + scan.error;
    return false;
  }
  if (!scan.is_object) {
    error.kind = ErrorKind::invalid_json;
    error.message = "The request body must be a JSON object.";
    return false;
  }
  if (!require(scan.model_type, JsonType::string, "model", "a string", error)) return false;
  if (scan.model.empty()) {
    error = {ErrorKind::missing_field, "'model' must not be empty.", "model"};
    return false;
  }
  switch (endpoint) {
    case OpenAiEndpoint::chat_completions:
      if (!require(scan.messages_type, JsonType::array, "messages", "an array", error)) return false;
      break;
    case OpenAiEndpoint::completions:
      if (!require_any(scan.prompt_type, {JsonType::string, JsonType::array}, "prompt", "a string or an array", error))
        return false;
      break;
    case OpenAiEndpoint::embeddings:
      if (!require_any(scan.input_type, {JsonType::string, JsonType::array}, "input", "a string or an array", error))
        return false;
      break;
  }
  if (scan.stream_options_type != JsonType::absent && scan.stream_options_type != JsonType::object &&
      scan.stream_options_type != JsonType::null) {
    error = {ErrorKind::invalid_request, "Invalid type for 'stream_options': expected an object.", "stream_options"};
    return false;
  }
  return true;
}

void append_json_string(std::string& out, std::string_view text) {
  char buffer[256];
  json::serializer serializer;
  const json::string_view view(text.data(), text.size());
  serializer.reset(view);
  while (!serializer.done()) out.append(serializer.read(buffer));
}

namespace {

void append_model(std::string& out, std::string_view model, std::string_view model_json) {
  if (model_json.empty()) {
    append_json_string(out, model);
  } else {
    out.append(model_json);
  }
}

}  // namespace

void rewrite_model_field(std::string_view body, const JsonScan& scan, std::string_view model, std::string& out,
                         std::string_view model_json) {
  if (scan.model_type != JsonType::string) {
    out.append(body);
    return;
  }
  if (!scan.model_span) {
    rewrite_with_dom(body, model, false, out);
    return;
  }
  out.append(body.substr(0, scan.model_span->begin));
  append_model(out, model, model_json);
  out.append(body.substr(scan.model_span->end));
}

void rewrite_request_body(std::string_view body, const JsonScan& scan, std::string_view upstream_model,
                          std::string& out, std::string_view upstream_model_json) {
  out.clear();
  const bool force_usage = scan.stream.value_or(false) && !client_wants_stream_usage(scan);
  if (!force_usage) {
    rewrite_model_field(body, scan, upstream_model, out, upstream_model_json);
    return;
  }
  if (scan.stream_options_type != JsonType::absent || !scan.model_span) {
    rewrite_with_dom(body, upstream_model, true, out);
    return;
  }
  // The common case: stream_options is absent, so it is added as the first member, and the model is
  // swapped in place.
  const auto brace = body.find('{');
  out.append(body.substr(0, brace + 1));
  out.append(R"("stream_options":{"include_usage":true},)");
  out.append(body.substr(brace + 1, scan.model_span->begin - brace - 1));
  append_model(out, upstream_model, upstream_model_json);
  out.append(body.substr(scan.model_span->end));
}

}  // namespace switchyard
