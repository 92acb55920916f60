#include "core/codec.h"

namespace carbon::core::codec {
namespace {
thread_local const SpanStreamBuf* current_decode_buffer = nullptr;
}  // namespace

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
