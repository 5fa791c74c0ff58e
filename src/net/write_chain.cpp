// WriteChain: see write_chain.hpp.
#include "net/write_chain.hpp"

#include <algorithm>
#include <utility>

namespace asyncio::detail {

namespace {
constexpr std::size_t kSpareMax = 4;                    // spare chunks kept per stream
constexpr std::size_t kSpareCapacityMax = 64 * 1024;    // larger storage is freed, not kept
}  // namespace

std::string WriteChain::fresh_storage(std::size_t at_least) {
    std::string s;
    if (!spare_.empty() && at_least <= kChunk) {
        s = std::move(spare_.back());
        spare_.pop_back();
    }
    s.reserve(std::max(at_least, kChunk));
    return s;
}

void WriteChain::append(std::string_view data) {
    if (data.empty()) return;
    if (chunks_.size() > head_) {
        Chunk& tail = chunks_.back();
        // Append only within the storage the tail already has (never a reallocation that
        // copies what is buffered), and only to small-write chunks.
        if (!tail.adopted && data.size() < kChunk && tail.data.size() + data.size() <= tail.data.capacity()) {
            tail.data.append(data);
            size_ += data.size();
            return;
        }
    }
    Chunk c{fresh_storage(data.size()), false};
    c.data.assign(data);
    chunks_.push_back(std::move(c));
    size_ += data.size();
}

void WriteChain::append(std::string&& data) {
    if (data.size() < kAdoptMin) {
        append(std::string_view(data));
        return;
    }
    size_ += data.size();
    chunks_.push_back(Chunk{std::move(data), true});
}

int WriteChain::gather(iovec* out, int max) const noexcept {
    int n = 0;
    for (std::size_t i = head_; i < chunks_.size() && n < max; ++i) {
        const std::string& d = chunks_[i].data;
        std::size_t skip = i == head_ ? offset_ : 0;
        if (d.size() == skip) continue;
        out[n].iov_base = const_cast<char*>(d.data() + skip);
        out[n].iov_len = d.size() - skip;
        ++n;
    }
    return n;
}

std::string_view WriteChain::front() const noexcept {
    if (size_ == 0) return {};
    const std::string& d = chunks_[head_].data;
    return std::string_view(d).substr(offset_);
}

void WriteChain::release(Chunk& c) noexcept {
    if (!c.adopted && c.data.capacity() <= kSpareCapacityMax && spare_.size() < kSpareMax) {
        c.data.clear();
        if (spare_.capacity() < kSpareMax) {
            try {
                spare_.reserve(kSpareMax);
            } catch (...) {
                c.data = std::string();
                return;
            }
        }
        spare_.push_back(std::move(c.data));
    } else {
        c.data = std::string();
    }
}

void WriteChain::consume(std::size_t n) noexcept {
    size_ -= n;
    while (n > 0) {
        Chunk& c = chunks_[head_];
        std::size_t left = c.data.size() - offset_;
        if (n < left) {
            offset_ += n;
            return;
        }
        n -= left;
        release(c);
        ++head_;
        offset_ = 0;
    }
    if (head_ == chunks_.size()) {
        chunks_.clear();  // keeps the vector's storage
        head_ = 0;
    } else if (head_ >= 64 && head_ * 2 >= chunks_.size()) {
        chunks_.erase(chunks_.begin(), chunks_.begin() + static_cast<std::ptrdiff_t>(head_));
        head_ = 0;
    }
}

void WriteChain::clear() noexcept {
    for (std::size_t i = head_; i < chunks_.size(); ++i) release(chunks_[i]);
    chunks_.clear();
    head_ = 0;
    offset_ = 0;
    size_ = 0;
}

}  // namespace asyncio::detail
