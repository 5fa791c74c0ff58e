// UringPoller: the io_uring back end of the poller seam (see poller.hpp). Readiness only: each
// watched fd has one multishot IORING_OP_POLL_ADD on the ring, edge-triggered like the epoll
// back end's EPOLLET registration, and unwatch() cancels it (IORING_OP_ASYNC_CANCEL).
//
// Why it can stand in for EpollPoller without a test seeing the difference:
//   - one round, one system call: the SQEs queued since the last wait (new watches, re-arms)
//     are submitted by the same io_uring_enter that waits, with the timeout passed in the
//     call (IORING_ENTER_EXT_ARG), so no timeout SQE; a zero-timeout wait with nothing to
//     submit reads the completion ring without entering the kernel at all;
//   - each ready fd is reported once per wait with the union of its events, however many
//     wake-ups (CQEs) the kernel posted for it since the last one;
//   - watch() refuses what epoll refuses (regular files, /dev/null: EPERM; a bad fd: EBADF):
//     the fd is also added, with no events, to a "shadow" epoll instance that is never waited
//     on (except by the fault-injection seam, which tracks fds through it: see wait());
//   - unwatch() submits its cancel at once: a multishot poll holds a reference to the
//     file, so a socket closed right after unwatch() must not stay open (a listening socket
//     still accepting, a peer not seeing end of file) until the loop's next round;
//   - wake() writes a WakeupFd (an eventfd) watched on the ring, the one EpollPoller uses, so
//     it stays async-signal-safe.
// CQE user_data is the address of a Watch record. The kernel never dereferences it; a record
// is freed only after its final CQE (no IORING_CQE_F_MORE) has been reaped, or with the ring.
//
// The kernel must offer IORING_FEAT_SINGLE_MMAP, IORING_FEAT_NODROP, IORING_FEAT_EXT_ARG and
// multishot poll (Linux 5.13); otherwise, or when io_uring_setup is refused (ENOSYS, EPERM
// from seccomp or kernel.io_uring_disabled), the constructor throws std::system_error and the
// seam falls back to epoll. The ring is driven with the raw system calls (no liburing), so the
// library has no extra dependency.
#pragma once

#include <linux/io_uring.h>
#include <sys/epoll.h>

#include <cstdint>
#include <vector>

#include "io/wakeup_fd.hpp"

namespace asyncio::detail {

class UringPoller {
public:
    /// Token reported for the internal wake-up eventfd; never handed to the caller.
    static constexpr std::uint64_t kWakeToken = ~std::uint64_t{0};

    /// Sets up the ring; throws std::system_error if the kernel lacks or refuses io_uring.
    UringPoller();
    ~UringPoller();
    UringPoller(const UringPoller&) = delete;
    UringPoller& operator=(const UringPoller&) = delete;

    /// As EpollPoller::watch: reports `fd` with `token` on each new edge of one of `events`.
    void watch(int fd, std::uint32_t events, std::uint64_t token);
    /// Changes the events or token of a watched fd.
    void rewatch(int fd, std::uint32_t events, std::uint64_t token);
    /// Stops reporting `fd`; harmless if it is not watched.
    void unwatch(int fd) noexcept;
    /// Number of fds watched (the wake-up eventfd excluded).
    [[nodiscard]] int watched() const noexcept { return watched_; }

    /// As EpollPoller::wait: blocks for at most `timeout_ns` (-1: no limit; 0: just poll),
    /// then calls `on_ready(token, events)` once for every fd that became ready.
    template <class F>
    int wait(std::int64_t timeout_ns, F&& on_ready) {
        collect(timeout_ns);
        int reported = 0;
        for (Watch* w = ready_head_; w != nullptr; w = w->next_ready) {
            if (!w->live) continue;
            if (w->token == kWakeToken) {
                wakeup_.drain();
                continue;
            }
            on_ready(w->token, w->ready);
            ++reported;
        }
        ready_head_ = nullptr;
        return reported;
    }

    /// Ends a blocked or the next wait() early. Safe from any thread and from a signal handler.
    void wake() noexcept { wakeup_.wake(); }

    /// In a child process after fork(): closes this process's copies of the ring, the shadow
    /// epoll and the eventfd. Later calls fail; wake() does nothing.
    void forget_after_fork() noexcept;

private:
    struct Watch {
        std::uint64_t token = 0;
        int fd = -1;
        std::uint32_t events = 0;
        std::uint32_t ready = 0;      // events gathered for the report of this round
        std::uint32_t round = 0;      // the round `ready` belongs to
        bool live = true;             // false once unwatched: its CQEs are ignored
        bool armed = false;           // a POLL_ADD of it is in the kernel (final CQE not reaped)
        bool remove_owed = false;     // unwatched while the SQ was full: cancel still to send
        Watch* next_ready = nullptr;  // the round's list of fds to report
        Watch* all_prev = nullptr;    // every record this poller owns, freed with it
        Watch* all_next = nullptr;
    };

    void setup_ring();
    io_uring_sqe* next_sqe();
    void arm(Watch& w);
    /// Submits the queued SQEs and waits; returns the io_uring_enter result (-errno on error).
    int enter(unsigned min_complete, std::int64_t timeout_ns, bool wait_flag);
    void collect(std::int64_t timeout_ns);
    void reap();
    void note_ready(Watch& w, std::uint32_t events);
    void shadow_poll();
    Watch* make_watch(int fd, std::uint32_t events, std::uint64_t token);
    void retire(Watch* w) noexcept;
    bool queue_remove(Watch& w) noexcept;
    void send_owed_removes() noexcept;
    void cancel_all() noexcept;
    void release() noexcept;
    [[nodiscard]] unsigned pending_sqes() const noexcept;

    WakeupFd wakeup_;
    int ring_fd_ = -1;
    int shadow_fd_ = -1;  // epoll instance: watch() validation and the fault seam's tracking
    int watched_ = 0;
    std::uint32_t round_ = 0;
    Watch* ready_head_ = nullptr;
    Watch* ready_tail_ = nullptr;
    Watch* wake_watch_ = nullptr;
    Watch* all_ = nullptr;
    int owed_removes_ = 0;
    std::vector<Watch*> by_fd_;  // the live Watch of each fd number, or null

    // The mapped rings.
    void* ring_mem_ = nullptr;
    std::size_t ring_size_ = 0;
    io_uring_sqe* sqes_ = nullptr;
    std::size_t sqes_size_ = 0;
    unsigned* sq_head_ = nullptr;
    unsigned* sq_tail_ = nullptr;
    unsigned sq_mask_ = 0;
    unsigned sq_entries_ = 0;
    unsigned* sq_flags_ = nullptr;
    unsigned* cq_head_ = nullptr;
    unsigned* cq_tail_ = nullptr;
    unsigned cq_mask_ = 0;
    io_uring_cqe* cqes_ = nullptr;
};

}  // namespace asyncio::detail
