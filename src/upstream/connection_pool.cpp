#include "upstream/connection_pool.hpp"

namespace switchyard {

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const UpstreamConfig& upstream) {
  auto it = idle_.find(&upstream);
  if (it == idle_.end() || it->second.empty()) return nullptr;
  // Most recently used first: it is the least likely to have been closed by the upstream's idle timer.
  auto connection = std::move(it->second.back());
  it->second.pop_back();
  return connection;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::create(ssl::context* tls_context) {
  return std::make_unique<UpstreamConnection>(executor_, tls_context);
}

void ConnectionPool::give_back(const UpstreamConfig& upstream, std::unique_ptr<UpstreamConnection> connection) {
  auto& list = idle_[&upstream];
  if (list.size() >= upstream.max_idle_connections) {
    connection->close();
    return;
  }
  connection->reused = true;
  connection->idle_since = std::chrono::steady_clock::now();
  list.push_back(std::move(connection));
}

std::size_t ConnectionPool::idle_count(const UpstreamConfig& upstream) const {
  auto it = idle_.find(&upstream);
  return it == idle_.end() ? 0 : it->second.size();
}

void ConnectionPool::close_all() {
  for (auto& [_, list] : idle_)
    for (auto& connection : list) connection->close();
  idle_.clear();
}

}  // namespace switchyard
