// Reading small files (configuration, keystores) whole, with a bound on their size so a wrong
// path (a device, a huge log) cannot make a program allocate without limit.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/status.h"

namespace carbon::core {

// The file's contents; kNotFound if it cannot be read, kInvalidArgument if it is larger than
// max_bytes, kIoError if it cannot be opened.
Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

}  // namespace carbon::core
