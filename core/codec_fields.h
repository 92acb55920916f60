// Field helpers for the canonical encoding, usable in any header's serialize() template
// without pulling in cereal (cereal stays in the .cc files that encode or decode; see codec.h).
//
// Every variable-length field goes through these helpers so that decoding is bounded: the
// length prefix is checked against the field's named limit and against the bytes the input
// still holds *before* anything is allocated.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ios>
#include <optional>
#include <string>
#include <vector>

#include "core/assert.h"
#include "core/bytes.h"

namespace carbon::core::codec {

// Bytes left in the input being decoded on this thread (set by codec::decode).
std::size_t decode_bytes_remaining();

// Thrown only inside codec::decode and caught there; never escapes the decoder.
[[noreturn]] void throw_decode_error(const std::string& message);

template <class Archive>
inline constexpr bool kIsLoading = requires(Archive& archive, void* data) {
  archive.template loadBinary<1>(data, std::size_t{0});
};

// A length-prefixed sequence of at most max_count elements, each of which takes at least
// min_element_bytes of input.
template <class Archive, class T>
void bounded_vector(Archive& archive, std::vector<T>& values, std::size_t max_count,
                    std::size_t min_element_bytes = 1) {
  if constexpr (kIsLoading<Archive>) {
    std::uint32_t count = 0;
    archive(count);
    if (count > max_count) {
      throw_decode_error("sequence length " + std::to_string(count) + " exceeds limit " + std::to_string(max_count));
    }
    if (static_cast<std::size_t>(count) * min_element_bytes > decode_bytes_remaining()) {
      throw_decode_error("sequence length " + std::to_string(count) + " exceeds the remaining input");
    }
    values.clear();
    values.resize(count);
    for (auto& value : values) archive(value);
  } else {
    // Encoding something the decoder would refuse is a programmer error upstream.
    CARBON_ASSERT_MSG(values.size() <= max_count, "encoding a sequence over its limit");
    archive(static_cast<std::uint32_t>(values.size()));
    for (auto& value : values) archive(value);
  }
}

// A length-prefixed byte string of at most max_bytes.
template <class Archive>
void bounded_bytes(Archive& archive, std::vector<std::uint8_t>& bytes, std::size_t max_bytes) {
  if constexpr (kIsLoading<Archive>) {
    std::uint32_t count = 0;
    archive(count);
    if (count > max_bytes) {
      throw_decode_error("byte string length " + std::to_string(count) + " exceeds limit " + std::to_string(max_bytes));
    }
    if (count > decode_bytes_remaining()) {
      throw_decode_error("byte string length " + std::to_string(count) + " exceeds the remaining input");
    }
    bytes.resize(count);
    if (count > 0) archive.template loadBinary<1>(bytes.data(), count);
  } else {
    CARBON_ASSERT_MSG(bytes.size() <= max_bytes, "encoding a byte string over its limit");
    archive(static_cast<std::uint32_t>(bytes.size()));
    if (!bytes.empty()) archive.template saveBinary<1>(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
}

// A length-prefixed UTF-8 string of at most max_bytes; decoding refuses text that is not
// well-formed UTF-8 (it would reach JSON answers and logs).
template <class Archive>
void bounded_string(Archive& archive, std::string& text, std::size_t max_bytes) {
  if constexpr (kIsLoading<Archive>) {
    std::uint32_t count = 0;
    archive(count);
    if (count > max_bytes) {
      throw_decode_error("string length " + std::to_string(count) + " exceeds limit " + std::to_string(max_bytes));
    }
    if (count > decode_bytes_remaining()) {
      throw_decode_error("string length " + std::to_string(count) + " exceeds the remaining input");
    }
    text.resize(count);
    if (count > 0) archive.template loadBinary<1>(text.data(), count);
    if (!is_valid_utf8(text)) throw_decode_error("a text field is not valid UTF-8");
  } else {
    CARBON_ASSERT_MSG(text.size() <= max_bytes, "encoding a string over its limit");
    archive(static_cast<std::uint32_t>(text.size()));
    if (!text.empty()) archive.template saveBinary<1>(text.data(), static_cast<std::streamsize>(text.size()));
  }
}

// A length-prefixed sequence of at most max_count strings of at most max_bytes each.
template <class Archive>
void bounded_strings(Archive& archive, std::vector<std::string>& values, std::size_t max_count,
                     std::size_t max_bytes) {
  if constexpr (kIsLoading<Archive>) {
    std::uint32_t count = 0;
    archive(count);
    // Each string takes at least its 4-byte length.
    if (count > max_count || static_cast<std::size_t>(count) * 4 > decode_bytes_remaining()) {
      throw_decode_error("string list length " + std::to_string(count) + " exceeds its limit");
    }
    values.clear();
    values.resize(count);
  } else {
    CARBON_ASSERT_MSG(values.size() <= max_count, "encoding a string list over its limit");
    archive(static_cast<std::uint32_t>(values.size()));
  }
  for (auto& value : values) bounded_string(archive, value, max_bytes);
}

// An optional value: a one-byte tag (0 absent, 1 present; anything else is refused, which
// cereal's own optional, reading the tag into a bool, would not do safely) then the value.
template <class Archive, class T>
void optional_field(Archive& archive, std::optional<T>& value) {
  if constexpr (kIsLoading<Archive>) {
    std::uint8_t tag = 0;
    archive(tag);
    if (tag > 1) throw_decode_error("optional tag " + std::to_string(tag) + " is neither 0 nor 1");
    if (tag == 0) {
      value.reset();
    } else {
      value.emplace();
      archive(*value);
    }
  } else {
    archive(static_cast<std::uint8_t>(value.has_value() ? 1 : 0));
    if (value) archive(*value);
  }
}

}  // namespace carbon::core::codec
