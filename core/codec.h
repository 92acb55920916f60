// The one canonical binary encoding: cereal's portable binary archive (little-endian,
// fixed-width integers), used for hashing, signing, the wire and storage.
//
// Include this only in .cc files that encode or decode (it pulls in cereal); headers declare
// their serialize() templates with core/codec_fields.h.
//
// decode() is total: any input yields either a value or a Status; cereal's exceptions and our
// bound checks are caught here and never escape. A value is accepted only if it used every
// input byte and re-encodes to exactly the input, so each value has one encoding and ids
// (hashes of encodings) cannot be malleated.
//
// Thread safety: reentrant; the decode budget is per thread.
#pragma once

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/array.hpp>
#include <cereal/types/common.hpp>
#include <cereal/types/variant.hpp>
#include <exception>
#include <istream>
#include <optional>
#include <ostream>
#include <streambuf>

#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/status.h"

namespace carbon::core::codec {

// Upper bound on any single encoded value (a block with its payload is the largest).
inline constexpr std::size_t kMaxEncodedBytes = 16u * 1024u * 1024u;

// A read-only streambuf over a byte span, so decoding never copies its input.
class SpanStreamBuf : public std::streambuf {
 public:
  explicit SpanStreamBuf(ByteView bytes);
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

// A streambuf that appends to a byte vector.
class VectorStreamBuf : public std::streambuf {
 public:
  explicit VectorStreamBuf(Bytes& out) : out_(out) {}

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* data, std::streamsize count) override;

 private:
  Bytes& out_;
};

// A streambuf that compares what is written with an expected byte sequence instead of storing
// it: decode() re-encodes a value through it to check that the input was canonical without
// allocating a second copy.
class CompareStreamBuf : public std::streambuf {
 public:
  explicit CompareStreamBuf(ByteView expected) : expected_(expected) {}
  // True when exactly the expected bytes, no more and no fewer, were written.
  bool matched() const { return !mismatch_ && position_ == expected_.size(); }

 protected:
  int_type overflow(int_type ch) override;
  std::streamsize xsputn(const char* data, std::streamsize count) override;

 private:
  ByteView expected_;
  std::size_t position_ = 0;
  bool mismatch_ = false;
};

// Constructing a std::ostream or std::istream costs thousands of instructions (locale and
// facet set-up), more than encoding most of our values, and the node encodes and decodes
// several values per transaction on every thread. So each thread keeps one output and one
// input stream and a lease points it at the buffer of the call in hand. A call made while the
// thread's stream is leased (an encode inside a serialize()) gets a stream of its own.
template <class Stream>  // std::ostream or std::istream
class StreamLease {
 public:
  explicit StreamLease(std::streambuf* buffer);
  ~StreamLease();
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;
  Stream& stream() { return *stream_; }

 private:
  std::optional<Stream> own_;
  Stream* stream_ = nullptr;
};
extern template class StreamLease<std::ostream>;
extern template class StreamLease<std::istream>;
using OutputStreamLease = StreamLease<std::ostream>;
using InputStreamLease = StreamLease<std::istream>;

// Marks the thread's current decode input, for decode_bytes_remaining().
class DecodeScope {
 public:
  explicit DecodeScope(const SpanStreamBuf* buffer);
  ~DecodeScope();
  DecodeScope(const DecodeScope&) = delete;
  DecodeScope& operator=(const DecodeScope&) = delete;

 private:
  const SpanStreamBuf* previous_;
};

struct DecodeError : std::exception {
  explicit DecodeError(std::string text) : message(std::move(text)) {}
  const char* what() const noexcept override { return message.c_str(); }
  std::string message;
};

template <class T>
Bytes encode(const T& value) {
  Bytes out;
  out.reserve(128);
  VectorStreamBuf buffer(out);
  OutputStreamLease stream(&buffer);
  {
    cereal::PortableBinaryOutputArchive archive(stream.stream());
    archive(const_cast<T&>(value));  // cereal's serialize() is non-const by convention
  }
  return out;
}

// What decode() checks beyond a well-formed value that uses every input byte.
enum class CanonicalCheck {
  kRequired,  // the input must be the value's one encoding (anything from outside)
  // Not checked: for records this program encoded itself and hashes as stored (the contract
  // state, whose Merkle leaves hash the stored bytes), where the check would re-encode every
  // record read, about half the cost of a read. Everything else is checked as for kRequired.
  kSkipped,
};

template <class T>
Result<T> decode(ByteView bytes, std::size_t max_bytes = kMaxEncodedBytes,
                 CanonicalCheck canonical_check = CanonicalCheck::kRequired) {
  if (bytes.size() > max_bytes) {
    return Status::error(ErrorCode::kOutOfBounds, "encoded value of " + std::to_string(bytes.size()) +
                                                      " bytes exceeds limit " + std::to_string(max_bytes));
  }
  T value{};
  SpanStreamBuf buffer(bytes);
  try {
    DecodeScope scope(&buffer);
    InputStreamLease stream(&buffer);
    cereal::PortableBinaryInputArchive archive(stream.stream());
    archive(value);
    if (buffer.remaining() != 0) {
      return Status::error(ErrorCode::kDecodeError, std::to_string(buffer.remaining()) + " trailing bytes");
    }
  } catch (const DecodeError& error) {
    return Status::error(ErrorCode::kDecodeError, error.message);
  } catch (const std::exception& error) {
    if (buffer.remaining() == 0) {
      // cereal's own words ("Failed to read 4 bytes from input stream! Read 3") for what a
      // person sees as: the bytes stop before the value does.
      return Status::error(ErrorCode::kDecodeError, "truncated: the " + std::to_string(bytes.size()) +
                                                        " bytes end before the encoded value does");
    }
    return Status::error(ErrorCode::kDecodeError, std::string("malformed input: ") + error.what());
  }
  if (canonical_check == CanonicalCheck::kSkipped) return value;
  CompareStreamBuf canonical(bytes);
  {
    OutputStreamLease stream(&canonical);
    cereal::PortableBinaryOutputArchive archive(stream.stream());
    archive(value);
  }
  if (!canonical.matched()) return Status::error(ErrorCode::kDecodeError, "non-canonical encoding");
  return value;
}

}  // namespace carbon::core::codec
