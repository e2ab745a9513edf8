// Line-oriented trace storage: plain JSON Lines, or the same lines zstd-compressed
// (spec/trace-format.md §4). Memory stays constant in the trace length.
#pragma once

#include <cstdio>
#include <memory>
#include <string>

namespace vmref::trace {

/// Reads lines one at a time; detects zstd by its magic number (28 b5 2f fd).
/// Throws TraceError (line 0) when the file cannot be opened or decompression fails.
class LineReader {
 public:
  explicit LineReader(const std::string& path);
  ~LineReader();
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;
  /// Next line without its '\n'; false at end of file.
  bool next(std::string& line);
  bool compressed() const { return zstd_ != nullptr; }
  const std::string& path() const { return path_; }

 private:
  bool fill();  // appends more decoded bytes to buf_; false at EOF
  std::string path_;
  std::FILE* f_ = nullptr;
  void* zstd_ = nullptr;  // ZSTD_DStream*
  std::string in_, buf_;  // in_: decompression scratch; buf_: decoded, unread bytes
  bool frame_done_ = true;
  std::size_t pos_ = 0;
  bool eof_ = false;
};

/// Writes lines, zstd-compressed when `compress` (level 3, the zstd default).
class LineWriter {
 public:
  LineWriter(const std::string& path, bool compress);
  ~LineWriter();
  LineWriter(const LineWriter&) = delete;
  LineWriter& operator=(const LineWriter&) = delete;
  void write(const std::string& line);
  /// Flushes and closes; throws std::runtime_error on I/O failure.
  void close();

 private:
  void emit(const char* data, std::size_t n, bool end);
  std::string path_;
  std::FILE* f_ = nullptr;
  void* zstd_ = nullptr;  // ZSTD_CStream*
  std::string pending_, out_;
};

/// True when `path` ends in ".zst".
bool wants_zstd(const std::string& path);

}  // namespace vmref::trace
