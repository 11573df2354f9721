// Slot accounting and hand-over for the fake llama-server (see slot_gate.hpp).
#include "slot_gate.hpp"

#include <algorithm>
#include <cstdio>

namespace fake_upstream {

SlotGate::SlotGate(int slots, int slot_ctx)
    : slots_(static_cast<std::size_t>(std::max(1, slots))), slot_ctx_(slot_ctx) {}

int SlotGate::busy() const {
  return static_cast<int>(std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.busy; }));
}

int SlotGate::try_acquire(std::int64_t task) {
  // Waiters go first: a newcomer must not overtake a task that is already deferred.
  if (!waiting_.empty()) {
    return -1;
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    if (!slots_[i].busy) {
      slots_[i] = Slot{true, task, 0, 0};
      std::fprintf(stderr, "slot launch_slot_: id %3zu | task %lld | processing task\n", i,
                   static_cast<long long>(task));
      return static_cast<int>(i);
    }
  }
  return -1;
}

void SlotGate::enqueue(Waiter& waiter) {
  waiting_.push_back(&waiter);
  std::fprintf(stderr, "srv  get_availabl: no free slot, task %lld deferred (%zu waiting)\n",
               static_cast<long long>(waiter.task), waiting_.size());
}

void SlotGate::remove(Waiter& waiter) {
  std::erase(waiting_, &waiter);
}

void SlotGate::release(int slot) {
  Slot& s = slots_[static_cast<std::size_t>(slot)];
  std::fprintf(stderr, "slot      release: id %3d | task %lld | stop processing: n_tokens = %d, truncated = 0\n",
               slot, static_cast<long long>(s.task), s.prompt_tokens + s.planned_tokens);
  if (!waiting_.empty()) {
    Waiter* next = waiting_.front();
    waiting_.pop_front();
    s = Slot{true, next->task, 0, 0};
    next->slot = slot;
    std::fprintf(stderr, "slot launch_slot_: id %3d | task %lld | processing task\n", slot,
                 static_cast<long long>(next->task));
    if (next->timer != nullptr) {
      next->timer->cancel();
    }
    return;
  }
  s = Slot{};
  if (busy() == 0) {
    std::fprintf(stderr, "srv  update_slots: all slots are idle\n");
  }
}

}  // namespace fake_upstream
