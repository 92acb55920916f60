#include "core/codec.h"

#include <cstring>

namespace carbon::core::codec {
namespace {
thread_local const SpanStreamBuf* current_decode_buffer = nullptr;

// The thread's reusable stream of each kind (see StreamLease). It starts without a buffer; a
// lease sets one (rdbuf() also clears any error state a previous call left) and takes it away
// again.
template <class Stream>
struct ThreadStream {
  Stream stream{nullptr};
  bool leased = false;
};

template <class Stream>
ThreadStream<Stream>& thread_stream() {
  thread_local ThreadStream<Stream> shared;
  return shared;
}
}  // namespace

std::streamsize CompareStreamBuf::xsputn(const char* data, std::streamsize count) {
  const auto size = static_cast<std::size_t>(count);
  if (mismatch_ || size > expected_.size() - position_ ||
      std::memcmp(expected_.data() + position_, data, size) != 0) {
    mismatch_ = true;
  } else {
    position_ += size;
  }
  return count;  // never a write error: the verdict is matched(), read after encoding
}

CompareStreamBuf::int_type CompareStreamBuf::overflow(int_type ch) {
  if (ch == traits_type::eof()) return ch;
  const char byte = traits_type::to_char_type(ch);
  xsputn(&byte, 1);
  return ch;
}

template <class Stream>
StreamLease<Stream>::StreamLease(std::streambuf* buffer) {
  ThreadStream<Stream>& shared = thread_stream<Stream>();
  if (shared.leased) {  // a nested call: the thread's stream is in use
    stream_ = &own_.emplace(buffer);
    return;
  }
  shared.leased = true;
  shared.stream.rdbuf(buffer);
  stream_ = &shared.stream;
}

template <class Stream>
StreamLease<Stream>::~StreamLease() {
  if (own_) return;
  ThreadStream<Stream>& shared = thread_stream<Stream>();
  shared.stream.rdbuf(nullptr);
  shared.leased = false;
}

template class StreamLease<std::ostream>;
template class StreamLease<std::istream>;

SpanStreamBuf::SpanStreamBuf(ByteView bytes) {
  // std::streambuf wants mutable pointers; the buffer is only ever read.
  char* begin = const_cast<char*>(reinterpret_cast<const char*>(bytes.data()));
  setg(begin, begin, begin + bytes.size());
}

VectorStreamBuf::int_type VectorStreamBuf::overflow(int_type ch) {
  if (ch != traits_type::eof()) out_.push_back(static_cast<std::uint8_t>(ch));
  return ch;
}

std::streamsize VectorStreamBuf::xsputn(const char* data, std::streamsize count) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data);
  out_.insert(out_.end(), bytes, bytes + count);
  return count;
}

DecodeScope::DecodeScope(const SpanStreamBuf* buffer) : previous_(current_decode_buffer) {
  current_decode_buffer = buffer;
}
DecodeScope::~DecodeScope() { current_decode_buffer = previous_; }

std::size_t decode_bytes_remaining() {
  return current_decode_buffer != nullptr ? current_decode_buffer->remaining() : 0;
}

void throw_decode_error(const std::string& message) { throw DecodeError(message); }

}  // namespace carbon::core::codec
