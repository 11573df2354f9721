// llama-server's slots for the fake's llama-server mode: at most N inference requests are processed
// at once and the rest wait in arrival order, as tasks wait for a free slot in llama-server.
// Logs slot starts, ends and deferrals to stderr as llama-server does.
// Lives in the server's shared state and is used only from its one worker thread (llama-server mode
// runs one), so it has no locks.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace fake_upstream {

class SlotGate {
 public:
  struct Slot {
    bool busy = false;
    std::int64_t task = -1;
    int prompt_tokens = 0;
    int planned_tokens = 0;  // tokens this task generates (n_remain at its start)
  };

  // A request waiting for a slot: release() hands it one (sets `slot`) and cancels `timer` to wake it.
  struct Waiter {
    boost::asio::steady_timer* timer = nullptr;
    std::int64_t task = -1;
    int slot = -1;
  };

  SlotGate(int slots, int slot_ctx);

  std::int64_t next_task() { return next_task_++; }

  // A free slot for `task` (lowest id first), or -1 when all are busy.
  int try_acquire(std::int64_t task);
  void enqueue(Waiter& waiter);
  // Drops a waiter whose client went away before it got a slot.
  void remove(Waiter& waiter);
  // Frees `slot`, or hands it straight to the first waiter.
  void release(int slot);

  int total() const { return static_cast<int>(slots_.size()); }
  int busy() const;
  int deferred() const { return static_cast<int>(waiting_.size()); }
  int slot_ctx() const { return slot_ctx_; }
  Slot& slot(int i) { return slots_[static_cast<std::size_t>(i)]; }
  const Slot& slot(int i) const { return slots_[static_cast<std::size_t>(i)]; }

 private:
  std::vector<Slot> slots_;
  std::deque<Waiter*> waiting_;
  int slot_ctx_;
  std::int64_t next_task_ = 0;
};

}  // namespace fake_upstream
