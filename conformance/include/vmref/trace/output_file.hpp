// Output files that are either complete or absent (spec/trace-format.md §5): a regular
// file is written to a temporary file in the same folder and renamed into place only on
// commit(), so a failed or interrupted run never leaves a truncated result that looks
// valid, and never destroys the previous file. Devices and pipes (/dev/stdout,
// /dev/full) are written in place, with every write checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace vmref::trace {

/// Error for an output that cannot be written; the message names the path.
struct OutputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Throws OutputError when `out` names the same file as one of `inputs` (same device
/// and inode, whatever the spelling or links), before anything is opened for writing.
void refuse_same_file(const std::string& out, const std::vector<std::string>& inputs);

/// One output file. Throws OutputError (naming the path and errno text) when the file
/// cannot be created, a write fails (a full disk, /dev/full) or the rename fails.
class OutputFile {
 public:
  explicit OutputFile(const std::string& path);
  /// Removes the temporary file unless commit() succeeded.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  /// Appends `n` bytes.
  void write(const void* data, std::size_t n);
  /// Writes `n` bytes at byte offset `off` (for sparse images; regular files only).
  void pwrite(const void* data, std::size_t n, std::uint64_t off);
  /// Sets the file's size in bytes (regular files only).
  void truncate(std::uint64_t size);
  /// Flushes to the kernel, closes and renames into place. Idempotent.
  void commit();
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const std::string& what) const;
  std::string path_;     // as the user named it
  std::string target_;   // what the rename replaces (symlinks resolved)
  std::string tmp_;      // empty when writing in place (device or pipe)
  int fd_ = -1;
  bool committed_ = false;
};

/// Writes `text` to `path` through OutputFile (complete or absent).
void write_file(const std::string& path, const std::string& text);

}  // namespace vmref::trace
