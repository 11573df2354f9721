#include "server/count_tokens.hpp"

#include <boost/json.hpp>

#include "app/worker.hpp"
#include "server/proxy.hpp"

namespace switchyard {
namespace {

namespace json = boost::json;

// Bytes of text a model would read: strings anywhere in the value (base64 image data excepted,
// which models see as a fixed-size image, counted separately).
std::size_t text_bytes(const json::value& value, std::int64_t& images) {
  switch (value.kind()) {
    case json::kind::string: return value.get_string().size();
    case json::kind::array: {
      std::size_t total = 0;
      for (const auto& item : value.get_array()) total += text_bytes(item, images);
      return total;
    }
    case json::kind::object: {
      const auto& object = value.get_object();
      if (const auto* type = object.if_contains("type"); type && type->is_string() && type->get_string() == "image") {
        ++images;
        return 0;
      }
      std::size_t total = 0;
      for (const auto& [key, item] : object) total += key.size() + text_bytes(item, images);
      return total;
    }
    default: return value.is_null() ? 0 : 4;
  }
}

}  // namespace

std::int64_t estimate_input_tokens(const json::object& request) {
  std::int64_t images = 0;
  std::size_t bytes = 0;
  std::int64_t messages = 0;
  for (const auto* field : {"system", "messages", "tools"}) {
    if (const auto* value = request.if_contains(field)) bytes += text_bytes(*value, images);
  }
  if (const auto* list = request.if_contains("messages"); list && list->is_array())
    messages = static_cast<std::int64_t>(list->get_array().size());
  // ~4 bytes a token, a few tokens of framing per message, and ~1,600 tokens per image (Anthropic's
  // figure for a 1.15-megapixel image).
  return static_cast<std::int64_t>((bytes + 3) / 4) + 3 * messages + 1600 * images;
}

Task<> serve_count_tokens(HttpSession& session, Request& request, RequestContext& context) {
  auto& worker = session.worker();
  boost::system::error_code ec;
  const auto parsed = json::parse(request.body(), ec);
  if (ec || !parsed.is_object()) {
    co_await session.respond_error(context, ApiError{ErrorKind::invalid_json, "The request body is not a JSON object.", {}});
    co_return;
  }
  const auto& body = parsed.get_object();
  const auto* model = body.if_contains("model");
  const auto* messages = body.if_contains("messages");
  if (!model || !model->is_string() || !messages || !messages->is_array()) {
    const ApiError error{ErrorKind::missing_field, "`model` (a string) and `messages` (an array) are required.",
                         !model || !model->is_string() ? "model" : "messages"};
    co_await session.respond_error(context, error);
    co_return;
  }
  const Route* route = worker.state().routes().find(std::string_view(model->get_string()));
  bool all_anthropic = route != nullptr;
  if (route)
    for (const auto& deployment : route->deployments)
      all_anthropic = all_anthropic && deployment.upstream->config.kind == UpstreamKind::anthropic;
  if (!route || all_anthropic) {
    // The proxy answers an unknown model with its 404, and forwards the rest.
    co_await proxy_request(session, request, context, ClientApi::anthropic_count_tokens);
    co_return;
  }
  const auto text = json::serialize(json::object{{"input_tokens", estimate_input_tokens(body)}});
  co_await session.respond(context, 200, "application/json", text, "X-Switchyard-Token-Count: estimated\r\n");
}

}  // namespace switchyard
