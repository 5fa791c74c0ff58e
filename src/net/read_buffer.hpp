// ReadBuffer: a stream's received, not yet read bytes, in storage the stream receives into
// directly (no per-thread scratch buffer and no copy from it).
//
// The room offered to one recv() starts at 4 KiB and doubles, up to 256 KiB, each time a recv()
// fills it completely (the sender had more), so a stream of small messages keeps a small buffer
// and a bulk transfer reads in large steps. Unread bytes are moved to the front only when the
// room left would be too small; the storage is kept for the stream's life (a steady read loop
// allocates nothing here).
#pragma once

#include <cstddef>
#include <cstring>
#include <memory>
#include <span>
#include <string>

namespace asyncio::detail {

class ReadBuffer {
public:
    static constexpr std::size_t kFirstRoom = 4 * 1024;
    static constexpr std::size_t kMaxRoom = 256 * 1024;

    /// Unread bytes.
    [[nodiscard]] std::size_t size() const noexcept { return end_ - pos_; }
    /// Never null (memchr and memcpy must not be given null, even for zero bytes).
    [[nodiscard]] const char* data() const noexcept { return data_ ? data_.get() + pos_ : &kNoBytes; }

    /// Drops the first `n` unread bytes (n <= size()).
    void consume(std::size_t n) noexcept {
        pos_ += n;
        if (pos_ == end_) pos_ = end_ = 0;
    }
    /// Removes and returns the first `n` unread bytes.
    std::string take(std::size_t n) {
        std::string out(data(), n);
        consume(n);
        return out;
    }

    /// Storage for the next recv() after the unread bytes: room_ bytes (see above).
    std::span<char> space() {
        if (cap_ - end_ < room_) make_room();
        return {data_.get() + end_, cap_ - end_};
    }
    /// `n` bytes were received into space(); `offered` is how large space() was.
    void commit(std::size_t n, std::size_t offered) noexcept {
        end_ += n;
        if (n == offered && room_ < kMaxRoom) room_ *= 2;  // the sender had more: read more at once
    }

    /// Puts `n` bytes back in front of the unread ones (a large read that could not finish).
    void put_back(const char* bytes, std::size_t n) {
        if (n == 0) return;
        if (pos_ >= n) {
            pos_ -= n;
            std::memcpy(data_.get() + pos_, bytes, n);
            return;
        }
        std::size_t keep = size();
        std::size_t cap = std::max(cap_, n + keep + room_);
        std::unique_ptr<char[]> fresh(new char[cap]);
        std::memcpy(fresh.get(), bytes, n);
        if (keep != 0) std::memcpy(fresh.get() + n, data(), keep);
        data_ = std::move(fresh);
        cap_ = cap;
        pos_ = 0;
        end_ = n + keep;
    }

private:
    static constexpr char kNoBytes = '\0';

    void make_room() {
        std::size_t keep = size();
        if (keep + room_ <= cap_) {
            std::memmove(data_.get(), data(), keep);  // usually a short tail
        } else {
            std::size_t cap = std::max(cap_ * 2, keep + room_);
            std::unique_ptr<char[]> fresh(new char[cap]);
            if (keep != 0) std::memcpy(fresh.get(), data(), keep);
            data_ = std::move(fresh);
            cap_ = cap;
        }
        pos_ = 0;
        end_ = keep;
    }

    std::unique_ptr<char[]> data_;
    std::size_t cap_ = 0;
    std::size_t pos_ = 0;  // unread: [pos_, end_)
    std::size_t end_ = 0;
    std::size_t room_ = kFirstRoom;
};

}  // namespace asyncio::detail
