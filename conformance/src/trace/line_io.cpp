#include "vmref/trace/line_io.hpp"

#include <zstd.h>
#include <zstd_errors.h>

#include <cerrno>
#include <cstring>

#include "vmref/trace/error.hpp"

namespace vmref::trace {

namespace {
constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};


// The largest window a frame may ask for (2^24 = 16 MiB): enough for `zstd -19`
// (8 MiB); `zstd --long` or `--ultra -20` and above need more and are refused, so that
// decoding memory stays bounded whatever the file claims.
constexpr int kMaxWindowLog = 24;
constexpr std::size_t kRawChunk = 1 << 16;

ZSTD_DStream* ds(void* p) { return static_cast<ZSTD_DStream*>(p); }
ZSTD_CStream* cs(void* p) { return static_cast<ZSTD_CStream*>(p); }
}  // namespace

bool zstd_start(const void* p, std::size_t n) {
  const auto* b = static_cast<const unsigned char*>(p);
  if (n < 4) return false;
  return std::memcmp(b, kZstdMagic, 4) == 0 || ((b[0] & 0xf0) == 0x50 && b[1] == 0x2a && b[2] == 0x4d && b[3] == 0x18);
}

bool wants_zstd(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".zst") == 0;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) throw TraceError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  detect();
}

LineReader::LineReader(std::FILE* f, std::string name) : path_(std::move(name)), f_(f) {
  if (!f_) throw TraceError(path_, 0, "", "cannot open");
  detect();
}

// Reads the first bytes into in_ (not rewinding: pipes cannot seek) and picks the decoder.
void LineReader::detect() {
  in_.resize(std::max<std::size_t>(ZSTD_DStreamInSize(), kRawChunk));
  read_raw(in_.data(), in_.size(), in_len_);
  if (zstd_start(in_.data(), in_len_)) {
    zstd_ = ZSTD_createDStream();
    if (!zstd_) fail("out of memory for the zstd decoder");
    ZSTD_DCtx_setParameter(ds(zstd_), ZSTD_d_windowLogMax, kMaxWindowLog);
    out_.resize(ZSTD_DStreamOutSize());
    return;
  }
  out_.swap(in_);  // plain text: what was read is already output
  out_len_ = in_len_;
  in_len_ = 0;
}

LineReader::~LineReader() {
  if (zstd_) ZSTD_freeDStream(ds(zstd_));
  if (f_) std::fclose(f_);
}

void LineReader::fail(const std::string& msg) const { throw TraceError(path_, line_ + 1, "", msg); }

bool LineReader::read_raw(char* into, std::size_t cap, std::size_t& got) {
  got = std::fread(into, 1, cap, f_);
  if (got == 0 && std::ferror(f_)) fail(std::string("read error: ") + std::strerror(errno));
  return got != 0;
}

bool LineReader::fill() {
  out_pos_ = out_len_ = 0;
  if (eof_) return false;
  if (!zstd_) {
    if (!read_raw(out_.data(), out_.size(), out_len_)) eof_ = true;
    return !eof_;
  }
  for (;;) {
    if (in_pos_ == in_len_ && !more_output_) {
      in_pos_ = 0;
      if (!read_raw(in_.data(), in_.size(), in_len_)) {
        eof_ = true;
        if (!frame_done_) fail("truncated zstd stream: the last frame is incomplete");
        return false;
      }
    }
    ZSTD_inBuffer ib{in_.data(), in_len_, in_pos_};
    ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
    std::size_t r = ZSTD_decompressStream(ds(zstd_), &ob, &ib);
    if (ZSTD_isError(r))
      fail(std::string("corrupt zstd data: ") + ZSTD_getErrorName(r) +
           (ZSTD_getErrorCode(r) == ZSTD_error_frameParameter_windowTooLarge
                ? " (frames may use a window of at most 16 MiB: recompress without --long/--ultra)"
                : ""));
    in_pos_ = ib.pos;
    frame_done_ = r == 0;  // 0: a frame ended and everything it held was flushed
    more_output_ = r != 0 && ob.pos == ob.size;  // a full buffer may hide more output
    if (ob.pos) {
      out_len_ = ob.pos;
      return true;
    }
  }
}

bool LineReader::next(std::string& line) {
  line.clear();
  for (;;) {
    if (out_pos_ < out_len_) {
      const char* s = out_.data() + out_pos_;
      const void* nl = std::memchr(s, '\n', out_len_ - out_pos_);
      std::size_t n = nl ? static_cast<std::size_t>(static_cast<const char*>(nl) - s) : out_len_ - out_pos_;
      if (line.size() + n > kMaxLineBytes)
        fail("line longer than " + std::to_string(kMaxLineBytes >> 20) + " MiB (spec/trace-format.md §1)");
      line.append(s, n);
      out_pos_ += n + (nl ? 1 : 0);
      if (nl) {
        ++line_;
        return true;
      }
    }
    if (!fill()) {
      if (line.empty()) return false;
      ++line_;  // the last line, without a newline
      return true;
    }
  }
}

LineWriter::LineWriter(const std::string& path, bool compress) : out_file_(path) {
  if (compress) {
    zstd_ = ZSTD_createCStream();
    if (!zstd_) throw OutputError(path + ": out of memory for the zstd encoder");
    ZSTD_initCStream(cs(zstd_), 3);
  }
}

LineWriter::~LineWriter() {
  if (zstd_) ZSTD_freeCStream(cs(zstd_));
}  // without close(), out_file_ removes the unfinished file

void LineWriter::write(const std::string& line) {
  pending_ += line;
  pending_ += '\n';
  if (pending_.size() >= (1 << 16)) {
    emit(pending_.data(), pending_.size(), false);
    pending_.clear();
  }
}

void LineWriter::emit(const char* data, std::size_t n, bool end) {
  if (!zstd_) {
    out_file_.write(data, n);
    return;
  }
  out_.resize(ZSTD_CStreamOutSize());
  ZSTD_inBuffer ib{data, n, 0};
  for (;;) {
    ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
    std::size_t r = end ? ZSTD_endStream(cs(zstd_), &ob) : ZSTD_compressStream(cs(zstd_), &ob, &ib);
    if (ZSTD_isError(r)) throw OutputError(out_file_.path() + ": zstd: " + ZSTD_getErrorName(r));
    out_file_.write(out_.data(), ob.pos);
    if (end ? r == 0 : ib.pos == ib.size) break;
  }
}

void LineWriter::close() {
  if (closed_) return;
  emit(pending_.data(), pending_.size(), false);
  pending_.clear();
  if (zstd_) emit(nullptr, 0, true);
  out_file_.commit();
  closed_ = true;
}

}  // namespace vmref::trace
