// UringPoller: multishot poll requests on an io_uring, plus a WakeupFd for cross-thread
// wake-ups and a shadow epoll for validation. See uring_poller.hpp.
#include "io/uring_poller.hpp"

#include <endian.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/system_error.hpp"
#include "io/sys.hpp"

namespace asyncio::detail {

namespace {

constexpr unsigned kSqEntries = 1024;
constexpr unsigned kCqEntries = 8192;  // multishot polls post one CQE per edge: room for bursts

unsigned load_acquire(const unsigned* p) noexcept {
    return std::atomic_ref<const unsigned>(*p).load(std::memory_order_acquire);
}
void store_release(unsigned* p, unsigned v) noexcept {
    std::atomic_ref<unsigned>(*p).store(v, std::memory_order_release);
}

std::uint32_t poll_mask(std::uint32_t events) noexcept {
    // The kernel reads poll32_events with the half-words of a 16-bit era swapped on big-endian.
#if __BYTE_ORDER == __BIG_ENDIAN
    events = (events << 16) | (events >> 16);
#endif
    return events;
}

}  // namespace

UringPoller::UringPoller() {
    try {
        setup_ring();
        shadow_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (shadow_fd_ < 0) throw_system_error(errno, "epoll_create1");
        wake_watch_ = make_watch(wakeup_.fd(), EPOLLIN, kWakeToken);
        arm(*wake_watch_);
        // Multishot poll (Linux 5.13) is what makes a ring edge-triggered; an older kernel
        // refuses the flag with EINVAL, in a CQE posted during this submission.
        int r = enter(0, 0, false);
        if (r < 0) throw_system_error(-r, "io_uring_enter");
        unsigned head = *cq_head_;
        for (unsigned tail = load_acquire(cq_tail_); head != tail; ++head) {
            const io_uring_cqe& c = cqes_[head & cq_mask_];
            if (c.user_data == reinterpret_cast<std::uint64_t>(wake_watch_) && c.res < 0)
                throw_system_error(-c.res, "io_uring multishot poll");
        }
    } catch (...) {
        release();
        throw;
    }
}

UringPoller::~UringPoller() { release(); }

void UringPoller::setup_ring() {
    // COOP_TASKRUN (Linux 5.19): completions are processed when the loop enters the kernel,
    // instead of interrupting whatever the thread is doing (a blocking poll() or epoll_wait of
    // the program's own would otherwise fail with EINTR); TASKRUN_FLAG marks the SQ ring when
    // such work is pending, so a zero-timeout wait knows it must enter.
    io_uring_params p{};
    p.flags = IORING_SETUP_CQSIZE | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    p.cq_entries = kCqEntries;
    long fd = ::syscall(__NR_io_uring_setup, kSqEntries, &p);
    if (fd < 0 && errno == EINVAL) {
        p = io_uring_params{};
        p.flags = IORING_SETUP_CQSIZE;
        p.cq_entries = kCqEntries;
        fd = ::syscall(__NR_io_uring_setup, kSqEntries, &p);
    }
    if (fd < 0) throw_system_error(errno, "io_uring_setup");
    ring_fd_ = static_cast<int>(fd);
    constexpr std::uint32_t needed = IORING_FEAT_SINGLE_MMAP | IORING_FEAT_NODROP | IORING_FEAT_EXT_ARG;
    if ((p.features & needed) != needed) throw_system_error(ENOSYS, "io_uring (kernel older than 5.11)");

    std::size_t sq_size = p.sq_off.array + p.sq_entries * sizeof(unsigned);
    std::size_t cq_size = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
    ring_size_ = std::max(sq_size, cq_size);
    void* mem = ::mmap(nullptr, ring_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                       IORING_OFF_SQ_RING);
    if (mem == MAP_FAILED) throw_system_error(errno, "mmap(io_uring)");
    ring_mem_ = mem;
    auto* base = static_cast<char*>(mem);
    sq_head_ = reinterpret_cast<unsigned*>(base + p.sq_off.head);
    sq_tail_ = reinterpret_cast<unsigned*>(base + p.sq_off.tail);
    sq_mask_ = *reinterpret_cast<unsigned*>(base + p.sq_off.ring_mask);
    sq_entries_ = *reinterpret_cast<unsigned*>(base + p.sq_off.ring_entries);
    sq_flags_ = reinterpret_cast<unsigned*>(base + p.sq_off.flags);
    auto* array = reinterpret_cast<unsigned*>(base + p.sq_off.array);
    for (unsigned i = 0; i < sq_entries_; ++i) array[i] = i;  // slot i always names SQE i
    cq_head_ = reinterpret_cast<unsigned*>(base + p.cq_off.head);
    cq_tail_ = reinterpret_cast<unsigned*>(base + p.cq_off.tail);
    cq_mask_ = *reinterpret_cast<unsigned*>(base + p.cq_off.ring_mask);
    cqes_ = reinterpret_cast<io_uring_cqe*>(base + p.cq_off.cqes);

    sqes_size_ = p.sq_entries * sizeof(io_uring_sqe);
    void* sqes = ::mmap(nullptr, sqes_size_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring_fd_,
                        IORING_OFF_SQES);
    if (sqes == MAP_FAILED) throw_system_error(errno, "mmap(io_uring sqes)");
    sqes_ = static_cast<io_uring_sqe*>(sqes);
}

void UringPoller::cancel_all() noexcept {
    // Remove every poll and reap its final CQE before the ring goes. Closing a ring with
    // requests in flight would also cancel them, but from a kernel worker that keeps
    // interrupting this thread (EINTR in its other system calls) until they are gone.
    int armed = 0;
    for (Watch* w = all_; w != nullptr; w = w->all_next) {
        if (!w->armed) continue;
        w->live = false;
        if (queue_remove(*w)) ++armed;
    }
    for (int tries = 0; armed > 0 && tries < 50; ++tries) {
        int r = enter(1, 20'000'000, true);
        if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) break;
        try {
            reap();  // every record is dead: reaping retires them and arms nothing
        } catch (...) {
            break;
        }
        armed = 0;
        for (Watch* w = all_; w != nullptr; w = w->all_next) armed += w->armed ? 1 : 0;
    }
}

void UringPoller::release() noexcept {
    if (ring_fd_ >= 0 && ring_mem_ != nullptr && sqes_ != nullptr) cancel_all();
    // Closing the ring cancels whatever is left; after that no CQE can name a record, so all
    // of them go, whatever state they are in.
    if (ring_fd_ >= 0) ::close(ring_fd_);
    if (sqes_ != nullptr) ::munmap(sqes_, sqes_size_);
    if (ring_mem_ != nullptr) ::munmap(ring_mem_, ring_size_);
    if (shadow_fd_ >= 0) ::close(shadow_fd_);
    ring_fd_ = shadow_fd_ = -1;
    sqes_ = nullptr;
    ring_mem_ = nullptr;
    while (all_ != nullptr) {
        Watch* w = all_;
        all_ = w->all_next;
        delete w;
    }
    by_fd_.clear();
    watched_ = 0;
}

UringPoller::Watch* UringPoller::make_watch(int fd, std::uint32_t events, std::uint64_t token) {
    auto* w = new Watch;
    w->fd = fd;
    w->events = events | EPOLLERR | EPOLLHUP;
    w->token = token;
    w->all_next = all_;
    if (all_ != nullptr) all_->all_prev = w;
    all_ = w;
    return w;
}

void UringPoller::retire(Watch* w) noexcept {
    (w->all_prev != nullptr ? w->all_prev->all_next : all_) = w->all_next;
    if (w->all_next != nullptr) w->all_next->all_prev = w->all_prev;
    delete w;
}

unsigned UringPoller::pending_sqes() const noexcept { return *sq_tail_ - load_acquire(sq_head_); }

io_uring_sqe* UringPoller::next_sqe() {
    if (pending_sqes() == sq_entries_) {
        (void)enter(0, 0, false);  // full: hand the queue to the kernel first
        if (pending_sqes() == sq_entries_) return nullptr;
    }
    io_uring_sqe* sqe = &sqes_[*sq_tail_ & sq_mask_];
    std::memset(sqe, 0, sizeof *sqe);
    return sqe;
}

void UringPoller::arm(Watch& w) {
    io_uring_sqe* sqe = next_sqe();
    if (sqe == nullptr) throw_system_error(EBUSY, "io_uring poll");
    sqe->opcode = IORING_OP_POLL_ADD;
    sqe->fd = w.fd;
    sqe->poll32_events = poll_mask(w.events);
    sqe->len = IORING_POLL_ADD_MULTI;
    sqe->user_data = reinterpret_cast<std::uint64_t>(&w);
    store_release(sq_tail_, *sq_tail_ + 1);
    w.armed = true;
}

bool UringPoller::queue_remove(Watch& w) noexcept {
    io_uring_sqe* sqe = nullptr;
    try {
        sqe = next_sqe();
    } catch (...) {
    }
    if (sqe == nullptr) return false;
    // ASYNC_CANCEL, not POLL_REMOVE: POLL_REMOVE fails with EALREADY while the poll's own
    // completion work is pending (it became ready in the same instant), and the poll then
    // lives on, holding its file open; a cancel marks it and its pending work completes it.
    sqe->opcode = IORING_OP_ASYNC_CANCEL;
    sqe->fd = -1;
    sqe->addr = reinterpret_cast<std::uint64_t>(&w);
    sqe->user_data = 0;  // its own CQE says nothing the poll's final CQE does not
    store_release(sq_tail_, *sq_tail_ + 1);
    return true;
}

void UringPoller::send_owed_removes() noexcept {
    for (Watch* w = all_; w != nullptr && owed_removes_ > 0; w = w->all_next) {
        if (!w->remove_owed || !queue_remove(*w)) continue;
        w->remove_owed = false;
        --owed_removes_;
    }
}

void UringPoller::watch(int fd, std::uint32_t events, std::uint64_t token) {
    if (ring_fd_ < 0) throw_system_error(EBADF, "io_uring");
    Watch* w = make_watch(fd, events, token);
    // The shadow epoll refuses exactly what the epoll back end would (EBADF, EPERM, EEXIST).
    epoll_event ev{};
    ev.events = EPOLLET;
    ev.data.u64 = reinterpret_cast<std::uint64_t>(w);
    if (sys::epoll_ctl(shadow_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
        int err = errno;
        retire(w);
        throw_system_error(err, "epoll_ctl(ADD)");
    }
    try {
        if (static_cast<std::size_t>(fd) >= by_fd_.size())
            by_fd_.resize(std::max(static_cast<std::size_t>(fd) + 1, 2 * by_fd_.size() + 64));
        arm(*w);
    } catch (...) {
        sys::epoll_ctl(shadow_fd_, EPOLL_CTL_DEL, fd, &ev);
        retire(w);
        throw;
    }
    by_fd_[static_cast<std::size_t>(fd)] = w;
    ++watched_;
}

void UringPoller::rewatch(int fd, std::uint32_t events, std::uint64_t token) {
    unwatch(fd);
    watch(fd, events, token);
}

void UringPoller::unwatch(int fd) noexcept {
    if (fd < 0 || static_cast<std::size_t>(fd) >= by_fd_.size()) return;
    Watch* w = by_fd_[static_cast<std::size_t>(fd)];
    if (w == nullptr) return;
    by_fd_[static_cast<std::size_t>(fd)] = nullptr;
    --watched_;
    w->live = false;
    epoll_event ev{};
    sys::epoll_ctl(shadow_fd_, EPOLL_CTL_DEL, fd, &ev);
    if (!w->armed) {
        retire(w);
        return;
    }
    if (!queue_remove(*w)) {
        w->remove_owed = true;  // sent by the next wait(), before it blocks
        ++owed_removes_;
        return;
    }
    // Now, not at the next wait(): the poll holds a reference to the file, and the caller is
    // about to close the fd and expects it closed (see uring_poller.hpp). GETEVENTS (with no
    // wait) makes the kernel also run the completion work that drops that reference.
    (void)enter(0, 0, true);
}

int UringPoller::enter(unsigned min_complete, std::int64_t timeout_ns, bool wait_flag) {
    unsigned flags = 0;
    io_uring_getevents_arg arg{};
    __kernel_timespec ts{};
    void* argp = nullptr;
    std::size_t argsz = 0;
    if (wait_flag) {
        flags = IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG;
        arg.sigmask_sz = _NSIG / 8;
        if (timeout_ns >= 0) {
            ts.tv_sec = timeout_ns / 1'000'000'000;
            ts.tv_nsec = timeout_ns % 1'000'000'000;
            arg.ts = reinterpret_cast<std::uint64_t>(&ts);
        }
        argp = &arg;
        argsz = sizeof arg;
    }
    unsigned submit = pending_sqes();
    if (submit == 0 && !wait_flag) return 0;
    long r = ::syscall(__NR_io_uring_enter, ring_fd_, submit, min_complete, flags, argp, argsz);
    return r < 0 ? -errno : static_cast<int>(r);
}

void UringPoller::collect(std::int64_t timeout_ns) {
    if (ring_fd_ < 0) throw_system_error(EBADF, "io_uring_enter");
    ++round_;
    ready_head_ = ready_tail_ = nullptr;
    if (owed_removes_ > 0) [[unlikely]]
        send_owed_removes();
    if (sys::armed()) [[unlikely]]
        shadow_poll();
    // Something to report already: do not block.
    if (ready_head_ != nullptr || *cq_head_ != load_acquire(cq_tail_)) timeout_ns = 0;
    int r = 0;
    if (timeout_ns != 0) {
        r = enter(1, timeout_ns, true);
    } else if (pending_sqes() > 0 || (load_acquire(sq_flags_) & (IORING_SQ_CQ_OVERFLOW | IORING_SQ_TASKRUN)) != 0) {
        // Completions waiting as task work, or in the overflow list, reach the ring in a
        // GETEVENTS enter.
        r = enter(0, 0, true);
    }
    // ETIME: the timeout passed; EINTR: a signal (let the loop look at its queues again);
    // EBUSY/EAGAIN: the kernel holds completions it could not post, reaping makes room.
    if (r < 0 && r != -ETIME && r != -EINTR && r != -EBUSY && r != -EAGAIN) throw_system_error(-r, "io_uring_enter");
    reap();
}

void UringPoller::reap() {
    unsigned head = *cq_head_;
    const unsigned tail = load_acquire(cq_tail_);
    for (; head != tail; ++head) {
        const io_uring_cqe& c = cqes_[head & cq_mask_];
        if (c.user_data == 0) continue;  // a cancel's own completion
        auto* w = reinterpret_cast<Watch*>(c.user_data);
        const bool more = (c.flags & IORING_CQE_F_MORE) != 0;
        if (!more) w->armed = false;
        if (!w->live) {
            if (!w->armed) retire(w);  // its last CQE: nothing in the kernel names it any more
            continue;
        }
        if (c.res > 0) {
            note_ready(*w, static_cast<std::uint32_t>(c.res));
        } else if (c.res < 0 && c.res != -ECANCELED) {
            // Not expected for an fd the shadow epoll accepted; let the owner's next system
            // call find out what is wrong.
            note_ready(*w, EPOLLERR);
        }
        if (!more) {
            // The kernel ended the multishot poll (CQ overflow, or it was cancelled): arm it
            // again. The new poll reports the fd's current state, at most one extra report.
            try {
                arm(*w);
            } catch (...) {
                store_release(cq_head_, head + 1);
                throw;
            }
        }
    }
    store_release(cq_head_, head);
}

void UringPoller::note_ready(Watch& w, std::uint32_t events) {
    if (w.round != round_) {
        w.round = round_;
        w.ready = 0;
        w.next_ready = nullptr;
        (ready_tail_ != nullptr ? ready_tail_->next_ready : ready_head_) = &w;
        ready_tail_ = &w;
    }
    w.ready |= events;
}

void UringPoller::shadow_poll() {
    // Only while the fault-injection seam is armed: it reports the edges it owes to fds it
    // made fail with EAGAIN or come back short, through the shadow epoll it tracks them by.
    epoll_event events[64];
    timespec zero{};
    int n = sys::epoll_pwait2(shadow_fd_, events, 64, &zero);
    if (n < 0) {
        if (errno == EINTR) return;
        throw_system_error(errno, "epoll_wait");
    }
    for (int i = 0; i < n; ++i) {
        auto* w = reinterpret_cast<Watch*>(events[i].data.u64);
        if (w->live) note_ready(*w, events[i].events);
    }
}

void UringPoller::forget_after_fork() noexcept {
    // The ring's memory is shared with the parent: unmap it so that nothing here can touch the
    // parent's queues. Records are left alone (never freed, as the inherited loop is not).
    ::close(ring_fd_);
    wakeup_.forget_after_fork();
    ::close(shadow_fd_);
    if (sqes_ != nullptr) ::munmap(sqes_, sqes_size_);
    if (ring_mem_ != nullptr) ::munmap(ring_mem_, ring_size_);
    sqes_ = nullptr;
    ring_mem_ = nullptr;
    ring_fd_ = shadow_fd_ = -1;
    by_fd_.clear();  // the records stay listed (reachable, for leak checkers)
    watched_ = 0;
}

}  // namespace asyncio::detail
