// Line-oriented trace storage: plain JSON Lines, or the same lines zstd-compressed
// (spec/trace-format.md §4). Memory stays constant in the trace length: input is read
// and decompressed through fixed buffers, and one line may hold at most kMaxLineBytes.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "vmref/trace/output_file.hpp"

namespace vmref::trace {

/// The longest line a trace may hold, in bytes (spec/trace-format.md §1): room for a
/// /proc/PID/maps snapshot of about 40,000 vsegs; beyond it a line is refused.
inline constexpr std::size_t kMaxLineBytes = 4u << 20;

/// Reads lines one at a time; detects zstd by a frame's magic number (28 b5 2f fd, or a
/// skippable frame's) and then
/// decodes any sequence of zstd frames, skippable frames included, through a fixed
/// window (ZSTD_decompressStream). Every error is a TraceError naming the file and the
/// line being read: unreadable file, corrupt or truncated zstd, a line over kMaxLineBytes.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  /// Reads from `f` (taken over and closed), named `name` in errors: for in-memory input.
  LineReader(std::FILE* f, std::string name);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  /// Next line without its '\n'; false at end of file.
  bool next(std::string& line);
  /// 1-based number of the line `next` returned last (0 before the first).
  std::uint64_t line() const { return line_; }
  bool compressed() const { return zstd_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  void detect();
  bool fill();                                   // refills out_; false at the end of input
  bool read_raw(char* into, std::size_t cap, std::size_t& got);
  [[noreturn]] void fail(const std::string& msg) const;
  std::string path_;
  std::FILE* f_ = nullptr;
  void* zstd_ = nullptr;                         // ZSTD_DStream*
  std::vector<char> in_, out_;                   // compressed input; decoded bytes
  std::size_t in_pos_ = 0, in_len_ = 0, out_pos_ = 0, out_len_ = 0;
  bool frame_done_ = true, more_output_ = false, eof_ = false;
  std::uint64_t line_ = 0;
};

/// Writes lines, zstd-compressed when `compress` (level 3, the zstd default), through an
/// OutputFile: the file appears only when close() succeeds; otherwise nothing is left.
class LineWriter {
 public:
  LineWriter(const std::string& path, bool compress);
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;
  void write(const std::string& line);
  /// Flushes, closes and renames into place; throws OutputError on I/O failure.
  void close();

 private:
  void emit(const char* data, std::size_t n, bool end);
  OutputFile out_file_;
  void* zstd_ = nullptr;  // ZSTD_CStream*
  std::string pending_, out_;
  bool closed_ = false;
};

/// True when `n` bytes at `p` start a zstd frame (28 b5 2f fd) or a skippable frame
/// (5? 2a 4d 18), RFC 8878 §3.1: what LineReader decompresses.
bool zstd_start(const void* p, std::size_t n);

/// True when `path` ends in ".zst".
bool wants_zstd(const std::string& path);

}  // namespace vmref::trace
