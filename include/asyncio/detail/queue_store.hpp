// The item containers behind Queue (FIFO ring), LifoQueue (stack) and PriorityQueue (heap).
// Each grows to its high-water mark and then allocates nothing: a steady stream of put/get
// moves items in place (std::deque would allocate and free a block every few hundred items).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <utility>
#include <vector>

namespace asyncio::detail {

/// A growable ring buffer; capacity is a power of two.
template <class T>
class RingStore {
public:
    RingStore() = default;
    RingStore(const RingStore&) = delete;
    RingStore& operator=(const RingStore&) = delete;
    ~RingStore() {
        clear();
        if (buf_ != nullptr) std::allocator<T>().deallocate(buf_, cap_);
    }

    [[nodiscard]] std::size_t size() const noexcept { return size_; }

    void push(T&& v) {
        if (size_ == cap_) grow();
        ::new (static_cast<void*>(buf_ + ((head_ + size_) & (cap_ - 1)))) T(std::move(v));
        ++size_;
    }

    /// The oldest item, removed. Precondition: size() > 0.
    T pop() {
        T& slot = buf_[head_];
        T v(std::move(slot));
        slot.~T();
        head_ = (head_ + 1) & (cap_ - 1);
        --size_;
        return v;
    }

    void clear() noexcept {
        for (; size_ > 0; --size_) {
            buf_[head_].~T();
            head_ = (head_ + 1) & (cap_ - 1);
        }
        head_ = 0;
    }

private:
    void grow() {
        std::size_t cap = cap_ == 0 ? 16 : cap_ * 2;
        T* buf = std::allocator<T>().allocate(cap);
        std::size_t done = 0;
        try {
            for (; done < size_; ++done) {
                ::new (static_cast<void*>(buf + done)) T(std::move_if_noexcept(buf_[(head_ + done) & (cap_ - 1)]));
            }
        } catch (...) {
            for (std::size_t i = 0; i < done; ++i) buf[i].~T();
            std::allocator<T>().deallocate(buf, cap);
            throw;
        }
        std::size_t n = size_;
        clear();
        if (buf_ != nullptr) std::allocator<T>().deallocate(buf_, cap_);
        buf_ = buf;
        cap_ = cap;
        head_ = 0;
        size_ = n;
    }

    T* buf_ = nullptr;
    std::size_t cap_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

/// Last in, first out.
template <class T>
class StackStore {
public:
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    void push(T&& v) { items_.push_back(std::move(v)); }
    T pop() {
        T v(std::move(items_.back()));
        items_.pop_back();
        return v;
    }
    void clear() noexcept { items_.clear(); }

private:
    std::vector<T> items_;
};

/// Smallest first by `Compare` (a binary heap; equal items come out in no particular order,
/// as with CPython's heapq).
template <class T, class Compare>
class HeapStore {
public:
    HeapStore() = default;
    explicit HeapStore(Compare c) : greater_{std::move(c)} {}
    [[nodiscard]] std::size_t size() const noexcept { return items_.size(); }
    void push(T&& v) {
        items_.push_back(std::move(v));
        std::push_heap(items_.begin(), items_.end(), greater_);
    }
    T pop() {
        std::pop_heap(items_.begin(), items_.end(), greater_);
        T v(std::move(items_.back()));
        items_.pop_back();
        return v;
    }
    void clear() noexcept { items_.clear(); }

private:
    // std's heap functions put the largest first; swapping the arguments puts the smallest.
    struct Greater {
        Compare less;
        bool operator()(const T& a, const T& b) const { return less(b, a); }
    };
    std::vector<T> items_;
    Greater greater_{};
};

}  // namespace asyncio::detail
