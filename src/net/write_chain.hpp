// WriteChain: a stream's output buffer as a chain of chunks, sent with one sendmsg.
//
// Small writes are copied into the tail chunk (16 KiB of reused storage, so a steady
// write/drain loop allocates nothing); a write of 16 KiB or more gets a chunk of its own, so a
// large write is copied once and never into one growing string; a std::string passed as an
// rvalue (Stream::write(std::string&&)) of 4 KiB or more becomes a chunk as it is, not copied.
// Chunks that were fully sent go back to a small pool of spare storage.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace asyncio::detail {

class WriteChain {
public:
    /// Chunks of copied bytes hold this much (a larger write gets a chunk of its own size).
    static constexpr std::size_t kChunk = 16 * 1024;
    /// An rvalue string at least this long is kept as it is; a shorter one is copied.
    static constexpr std::size_t kAdoptMin = 4 * 1024;
    /// Most buffers one gather() returns (one sendmsg).
    static constexpr int kMaxIov = 64;

    /// Bytes not yet consumed.
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

    /// Appends a copy of `data`.
    void append(std::string_view data);
    /// Appends `data`, taking its storage when it is kAdoptMin bytes or more (no copy).
    void append(std::string&& data);

    /// Fills `out` with up to `max` buffers of the pending bytes, in order; returns how many.
    int gather(iovec* out, int max) const noexcept;
    /// The first contiguous piece of the pending bytes (empty if none).
    [[nodiscard]] std::string_view front() const noexcept;
    /// Drops the first `n` pending bytes (n <= size()).
    void consume(std::size_t n) noexcept;
    /// Drops everything pending.
    void clear() noexcept;

    /// Tests: the data pointer of the chunk holding the last appended byte.
    [[nodiscard]] const char* back_data() const noexcept {
        return chunks_.size() > head_ ? chunks_.back().data.data() : nullptr;
    }

private:
    struct Chunk {
        std::string data;
        bool adopted = false;  // the caller's string: never appended to, never pooled
    };
    std::string fresh_storage(std::size_t at_least);
    void release(Chunk& c) noexcept;

    std::vector<Chunk> chunks_;  // chunks_[head_..] are pending; chunks_[head_] from offset_
    std::size_t head_ = 0;
    std::size_t offset_ = 0;
    std::size_t size_ = 0;
    std::vector<std::string> spare_;  // cleared storage of sent chunks, reused
};

}  // namespace asyncio::detail
