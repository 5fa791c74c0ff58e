/// @file
/// Queue, PriorityQueue, LifoQueue: CPython's asyncio queues for tasks of one loop.
///
///      asyncio::Queue<int> q(64);            // maxsize 64; 0 (the default) = unbounded
///      co_await q.put(1);                    // waits while the queue is full
///      int v = co_await q.get();             // waits while it is empty
///      q.task_done();  co_await q.join();    // count finished items, wait for all of them
///      q.shutdown();                         // put raises QueueShutDown; get drains, then raises
///
/// Waiters are served first come, first served. An item put while getters wait is promised to
/// the oldest getter (and a slot freed while putters wait to the oldest putter); a newcomer
/// cannot take it first, so get_nowait() may raise QueueEmpty while qsize() counts an item
/// promised to a woken getter that has not run yet. A waiter cancelled after it was promised
/// an item or a slot passes it to the next waiter: nothing is lost.
///
/// Waiting allocates nothing (the waiter's node lives in its coroutine frame); the items live
/// in a ring buffer (Queue) or a vector (LifoQueue, PriorityQueue) that grows to its
/// high-water mark. Use from the loop's thread only. A queue destroyed while tasks wait on it
/// wakes them with CancelledError.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <stdexcept>
#include <utility>

#include "asyncio/detail/queue_store.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/detail/wait_list.hpp"
#include "asyncio/errors.hpp"

namespace asyncio {

namespace detail {

/// What Queue, LifoQueue and PriorityQueue share; `Store` decides the order of items.
template <class T, class Store>
class QueueBase {
public:
    explicit QueueBase(std::size_t maxsize = 0) : maxsize_(maxsize) {}
    QueueBase(std::size_t maxsize, Store store) : maxsize_(maxsize), store_(std::move(store)) {}
    QueueBase(const QueueBase&) = delete;
    QueueBase& operator=(const QueueBase&) = delete;
    /// Tasks still waiting in get(), put() or join() are woken with CancelledError.
    ~QueueBase() {
        getters_.abandon_all();
        putters_.abandon_all();
        joiners_.abandon_all();
    }

    /// Number of items in the queue.
    [[nodiscard]] std::size_t qsize() const noexcept { return store_.size(); }
    /// The bound given at construction (0: unbounded).
    [[nodiscard]] std::size_t maxsize() const noexcept { return maxsize_; }
    [[nodiscard]] bool empty() const noexcept { return store_.size() == 0; }
    /// True if put_nowait() would raise QueueFull (slots promised to woken putters count).
    [[nodiscard]] bool full() const noexcept {
        return maxsize_ != 0 && store_.size() + reserved_slots_ >= maxsize_;
    }

    /// Adds `item` without waiting; throws QueueFull if full, QueueShutDown after shutdown().
    void put_nowait(T item) {
        if (shutdown_) throw QueueShutDown();
        if (full()) throw QueueFull();
        push(std::move(item));
    }

    /// Removes and returns an item without waiting; throws QueueEmpty if none is available
    /// (QueueShutDown if the queue is also shut down).
    T get_nowait() {
        if (!item_available()) {
            if (shutdown_) throw QueueShutDown();
            throw QueueEmpty();
        }
        return take();
    }

    /// Marks one item got earlier as processed; join() returns when every item put has been.
    /// Throws std::invalid_argument if called more times than items were put.
    void task_done() {
        if (unfinished_ == 0) throw std::invalid_argument("task_done() called too many times");
        if (--unfinished_ == 0) joiners_.wake_all(kRecheck);
    }

    /// From now on put() and put_nowait() throw QueueShutDown; get() and get_nowait() return
    /// what is left, then throw it. Tasks waiting in put() and (once nothing is left) in get()
    /// get QueueShutDown. With `immediate`, the items left are dropped (each counts as done
    /// for join(), whose waiters return once nothing is unfinished) and get() throws at once.
    void shutdown(bool immediate = false) {
        shutdown_ = true;
        if (immediate) {
            std::size_t dropped = store_.size();
            store_.clear();
            unfinished_ -= dropped < unfinished_ ? dropped : unfinished_;
            if (unfinished_ == 0) joiners_.wake_all(kRecheck);
        }
        getters_.wake_all(kRecheck);
        putters_.wake_all(kRecheck);
    }

    class [[nodiscard]] PutAwaiter {
    public:
        PutAwaiter(QueueBase& q, T item) : q_(&q), item_(std::move(item)) {}
        // Movable before it is awaited (wait_for and gather take awaitables by value).
        PutAwaiter(PutAwaiter&& o) noexcept(std::is_nothrow_move_constructible_v<T>)
            : q_(o.q_), item_(std::move(o.item_)) {}
        PutAwaiter& operator=(PutAwaiter&&) = delete;
        ~PutAwaiter() {
            if (node_.linked()) q_->leave_put(node_);
        }

        bool await_ready() const noexcept { return q_->shutdown_ || !q_->full(); }
        void await_suspend(std::coroutine_handle<> h) noexcept { q_->putters_.park(node_, h); }
        void await_resume() {
            if (node_.state == WaitNode::State::Idle) {
                q_->put_nowait(std::move(item_));
            } else if (node_.state == WaitNode::State::Abandoned) {
                node_.state = WaitNode::State::Idle;  // the queue is gone: touch nothing
                raise_cancelled(tls_scheduler->current);
            } else {
                q_->finish_put(node_, item_);
            }
        }

    private:
        QueueBase* q_;
        T item_;
        WaitNode node_;
    };

    class [[nodiscard]] GetAwaiter {
    public:
        explicit GetAwaiter(QueueBase& q) noexcept : q_(&q) {}
        GetAwaiter(GetAwaiter&& o) noexcept : q_(o.q_) {}
        GetAwaiter& operator=(GetAwaiter&&) = delete;
        ~GetAwaiter() {
            if (node_.linked()) q_->leave_get(node_);
        }

        bool await_ready() const noexcept { return q_->item_available() || q_->shutdown_; }
        void await_suspend(std::coroutine_handle<> h) noexcept { q_->getters_.park(node_, h); }
        T await_resume() {
            if (node_.state == WaitNode::State::Idle) return q_->get_nowait();
            if (node_.state == WaitNode::State::Abandoned) {
                node_.state = WaitNode::State::Idle;
                raise_cancelled(tls_scheduler->current);
            }
            return q_->finish_get(node_);
        }

    private:
        QueueBase* q_;
        WaitNode node_;
    };

    class [[nodiscard]] JoinAwaiter {
    public:
        explicit JoinAwaiter(QueueBase& q) noexcept : q_(&q) {}
        JoinAwaiter(JoinAwaiter&& o) noexcept : q_(o.q_) {}
        JoinAwaiter& operator=(JoinAwaiter&&) = delete;
        ~JoinAwaiter() {
            if (node_.linked()) q_->joiners_.leave(node_);
        }

        bool await_ready() const noexcept { return q_->unfinished_ == 0; }
        void await_suspend(std::coroutine_handle<> h) noexcept { q_->joiners_.park(node_, h); }
        void await_resume() {
            if (node_.state == WaitNode::State::Idle) return;
            if (node_.state != WaitNode::State::Abandoned) q_->joiners_.leave(node_);
            node_.state = WaitNode::State::Idle;
            tls_scheduler->check_cancel();
        }

    private:
        QueueBase* q_;
        WaitNode node_;
    };

    /// Puts `item`, waiting while the queue is full. Throws QueueShutDown after shutdown()
    /// (also to a putter waiting when it happens).
    PutAwaiter put(T item) { return PutAwaiter(*this, std::move(item)); }

    /// Removes and returns an item, waiting while none is available. After shutdown(),
    /// returns what is left, then throws QueueShutDown.
    GetAwaiter get() noexcept { return GetAwaiter(*this); }

    /// Waits until every item put has been marked done by task_done() (at once if so).
    JoinAwaiter join() noexcept { return JoinAwaiter(*this); }

private:
    static constexpr std::uint8_t kRecheck = 0;  // woken to look again (shutdown, join)
    static constexpr std::uint8_t kHandOff = 1;  // woken with an item / a slot promised

    // Items promised to woken getters stay in the store until they run; newcomers see past them.
    bool item_available() const noexcept { return store_.size() > reserved_items_; }

    void push(T&& item) {
        store_.push(std::move(item));
        ++unfinished_;
        wake_getter();
    }

    T take() {
        T item = store_.pop();
        wake_putter();
        return item;
    }

    void wake_getter() noexcept {
        if (item_available() && getters_.has_parked()) {
            getters_.wake_one(kHandOff);
            ++reserved_items_;
        }
    }

    void wake_putter() noexcept {
        if (!full() && putters_.has_parked()) {
            putters_.wake_one(kHandOff);
            ++reserved_slots_;
        }
    }

    /// Ends a wait in put(): gives back the promise of a slot if the putter was cancelled.
    bool end_put_wait(WaitNode& n) noexcept {
        bool promised = n.state == WaitNode::State::Woken && n.tag == kHandOff;
        putters_.leave(n);
        if (promised) --reserved_slots_;
        return promised;
    }

    bool end_get_wait(WaitNode& n) noexcept {
        bool promised = n.state == WaitNode::State::Woken && n.tag == kHandOff;
        getters_.leave(n);
        if (promised) --reserved_items_;
        return promised;
    }

    void finish_put(WaitNode& n, T& item) {
        bool promised = end_put_wait(n);
        if (tls_scheduler->current->has(TaskBase::kCancelPending)) {
            if (promised) wake_putter();  // the slot goes to the next putter
            raise_cancelled(tls_scheduler->current);
        }
        if (shutdown_) throw QueueShutDown();
        push(std::move(item));
    }

    T finish_get(WaitNode& n) {
        bool promised = end_get_wait(n);
        if (tls_scheduler->current->has(TaskBase::kCancelPending)) {
            if (promised) wake_getter();  // the item stays, for the next getter
            raise_cancelled(tls_scheduler->current);
        }
        if (item_available()) return take();
        throw QueueShutDown();  // woken by shutdown() with nothing left (or dropped at once)
    }

    // A frame destroyed while waiting (loop teardown): pass on whatever it was promised.
    void leave_put(WaitNode& n) noexcept {
        if (end_put_wait(n)) wake_putter();
    }
    void leave_get(WaitNode& n) noexcept {
        if (end_get_wait(n)) wake_getter();
    }

    std::size_t maxsize_;
    Store store_;
    std::size_t reserved_items_ = 0;  // items promised to woken getters
    std::size_t reserved_slots_ = 0;  // slots promised to woken putters
    std::size_t unfinished_ = 0;      // items put and not yet task_done()
    bool shutdown_ = false;
    WaitList getters_;
    WaitList putters_;
    WaitList joiners_;
};

}  // namespace detail

/// First in, first out (CPython's asyncio.Queue).
template <class T>
class Queue : public detail::QueueBase<T, detail::RingStore<T>> {
public:
    /// `maxsize`: the most items it holds; 0 = unbounded.
    explicit Queue(std::size_t maxsize = 0) : detail::QueueBase<T, detail::RingStore<T>>(maxsize) {}
};

/// Last in, first out (CPython's asyncio.LifoQueue).
template <class T>
class LifoQueue : public detail::QueueBase<T, detail::StackStore<T>> {
public:
    /// `maxsize`: the most items it holds; 0 = unbounded.
    explicit LifoQueue(std::size_t maxsize = 0) : detail::QueueBase<T, detail::StackStore<T>>(maxsize) {}
};

/// Smallest first by `Compare` (CPython's asyncio.PriorityQueue, whose items are usually
/// (priority, data) tuples: a std::pair or std::tuple works the same way here).
template <class T, class Compare = std::less<T>>
class PriorityQueue : public detail::QueueBase<T, detail::HeapStore<T, Compare>> {
    using Base = detail::QueueBase<T, detail::HeapStore<T, Compare>>;

public:
    /// `maxsize`: the most items it holds; 0 = unbounded.
    explicit PriorityQueue(std::size_t maxsize = 0) : Base(maxsize) {}
    /// `maxsize` as above; `compare` orders the items (smallest first).
    PriorityQueue(std::size_t maxsize, Compare compare)
        : Base(maxsize, detail::HeapStore<T, Compare>(std::move(compare))) {}
};

}  // namespace asyncio
