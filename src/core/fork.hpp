// fork() while loops exist: what the child process gets (docs/pitfalls.md, "fork()").
//
// Every Loop registers here for its lifetime. A pthread_atfork handler, installed when the
// first loop is created, takes the library's process-wide locks before fork() (so the child
// never inherits one held by a thread that does not exist there) and, in the child:
//   - abandons every loop that existed at fork() time, the forking thread's included: its
//     copies of the epoll fd and wake-up eventfd are closed (the parent's epoll instance is
//     not touched), it is marked closed and every later use raises RuntimeError. Its tasks,
//     worker threads and memory are deliberately leaked: destroying them would run user
//     destructors and join threads that only exist in the parent;
//   - forgets the forking thread's loop, so get_event_loop() / asyncio::run() build a fresh
//     one: at once, or, when fork() was called from a task or callback, once the old loop's
//     run has unwound (it raises that RuntimeError right after the step that forked);
//   - restores the default disposition of every signal a loop handled.
// The parent continues untouched.
#pragma once

namespace asyncio {
class Loop;
}

namespace asyncio::detail {

/// Loop construction / destruction (any thread).
void register_loop(Loop* loop);
void unregister_loop(Loop* loop) noexcept;

/// The RuntimeError every use of a loop inherited across fork() raises.
[[noreturn]] void raise_inherited_loop();

// The frame pool's shared lock (no-ops when frames come from the system allocator).
void frame_pool_lock_for_fork() noexcept;
void frame_pool_unlock_after_fork() noexcept;

}  // namespace asyncio::detail
