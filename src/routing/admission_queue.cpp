#include "routing/admission_queue.hpp"

#include <boost/beast/core/string.hpp>

namespace switchyard {
namespace {

constexpr std::size_t kRecentWaits = 512;

}  // namespace

Priority parse_priority(std::string_view header) {
  if (boost::beast::iequals(header, "high")) return Priority::high;
  if (boost::beast::iequals(header, "low")) return Priority::low;
  return Priority::normal;
}

std::string_view priority_name(Priority priority) {
  switch (priority) {
    case Priority::high: return "high";
    case Priority::normal: return "normal";
    case Priority::low: return "low";
  }
  return "normal";
}

std::shared_ptr<AdmissionQueue::Ticket> AdmissionQueue::join(const asio::any_io_executor& executor,
                                                              Priority priority) {
  auto ticket = std::make_shared<Ticket>(executor, priority, Clock::now());
  std::lock_guard lock(mutex_);
  auto& stats = stats_[static_cast<int>(priority)];
  if (waiting_.size() >= config_.max_size) {
    ++stats.rejected_full;
    return nullptr;
  }
  ticket->sequence = next_sequence_++;
  waiting_.insert(ticket);
  size_.store(waiting_.size(), std::memory_order_relaxed);
  ++stats.depth;
  return ticket;
}

void AdmissionQueue::leave(const std::shared_ptr<Ticket>& ticket, Clock::duration waited, bool served) {
  std::lock_guard lock(mutex_);
  const auto it = waiting_.find(ticket);
  if (it == waiting_.end()) return;
  const bool was_head = it == waiting_.begin();
  waiting_.erase(it);
  size_.store(waiting_.size(), std::memory_order_relaxed);
  auto& stats = stats_[static_cast<int>(ticket->priority)];
  --stats.depth;
  if (served) {
    ++stats.served;
    if (stats.recent_waits_ms.size() >= kRecentWaits)
      stats.recent_waits_ms.erase(stats.recent_waits_ms.begin());
    stats.recent_waits_ms.push_back(std::chrono::duration<double, std::milli>(waited).count());
  }
  if (was_head) wake_head_locked();
}

bool AdmissionQueue::is_head(const Ticket& ticket) const {
  std::lock_guard lock(mutex_);
  return !waiting_.empty() && waiting_.begin()->get() == &ticket;
}

void AdmissionQueue::notify() {
  if (empty()) return;  // the common case costs one relaxed load
  std::lock_guard lock(mutex_);
  wake_head_locked();
}

void AdmissionQueue::wake_head_locked() {
  if (waiting_.empty()) return;
  // The timer belongs to the head's worker: cancel it there. The ticket is kept alive by the copy.
  auto head = *waiting_.begin();
  asio::post(head->timer.get_executor(), [head] {
    head->woken = true;
    head->timer.cancel();
  });
}

std::array<AdmissionQueue::ClassStats, 3> AdmissionQueue::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

void AdmissionQueue::count_timeout(Priority priority) {
  std::lock_guard lock(mutex_);
  ++stats_[static_cast<int>(priority)].timed_out;
}

void AdmissionQueue::count_abandoned(Priority priority) {
  std::lock_guard lock(mutex_);
  ++stats_[static_cast<int>(priority)].abandoned;
}

}  // namespace switchyard
