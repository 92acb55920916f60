#include "core/file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace carbon::core {

Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::error(ErrorCode::kNotFound, "cannot read " + path.string() + ": " + ec.message());
  if (size > max_bytes) {
    return Status::error(ErrorCode::kInvalidArgument,
                         path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  std::ifstream in(path);
  if (!in) return Status::error(ErrorCode::kIoError, "cannot open " + path.string() + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace carbon::core
