#include "vmref/trace/line_io.hpp"

#include <zstd.h>

#include <cstring>
#include <stdexcept>

#include "vmref/trace/error.hpp"

namespace vmref::trace {

namespace {
constexpr unsigned char kZstdMagic[4] = {0x28, 0xb5, 0x2f, 0xfd};
}

bool wants_zstd(const std::string& path) {
  return path.size() > 4 && path.compare(path.size() - 4, 4, ".zst") == 0;
}

LineReader::LineReader(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "rb");
  if (!f_) throw TraceError(path, 0, "", std::string("cannot open: ") + std::strerror(errno));
  unsigned char magic[4] = {};
  std::size_t n = std::fread(magic, 1, 4, f_);
  std::rewind(f_);
  if (n == 4 && std::memcmp(magic, kZstdMagic, 4) == 0) {
    zstd_ = ZSTD_createDStream();
    ZSTD_initDStream(static_cast<ZSTD_DStream*>(zstd_));
  }
}

LineReader::~LineReader() {
  if (zstd_) ZSTD_freeDStream(static_cast<ZSTD_DStream*>(zstd_));
  if (f_) std::fclose(f_);
}

bool LineReader::fill() {
  if (eof_) return false;
  char chunk[1 << 16];
  if (!zstd_) {
    std::size_t n = std::fread(chunk, 1, sizeof chunk, f_);
    if (n == 0) return !(eof_ = true);
    buf_.append(chunk, n);
    return true;
  }
  auto* ds = static_cast<ZSTD_DStream*>(zstd_);
  std::size_t n = std::fread(chunk, 1, sizeof chunk, f_);
  if (n == 0) {
    eof_ = true;
    if (!frame_done_) throw TraceError(path_, 0, "", "truncated zstd stream");
    return false;
  }
  in_.resize(ZSTD_DStreamOutSize());
  ZSTD_inBuffer ib{chunk, n, 0};
  bool full = false;
  while (ib.pos < ib.size || full) {  // a full output buffer may hide more output
    ZSTD_outBuffer ob{in_.data(), in_.size(), 0};
    std::size_t r = ZSTD_decompressStream(ds, &ob, &ib);
    if (ZSTD_isError(r)) throw TraceError(path_, 0, "", std::string("zstd: ") + ZSTD_getErrorName(r));
    buf_.append(in_.data(), ob.pos);
    full = ob.pos == ob.size;
    frame_done_ = r == 0;
  }
  return true;
}

bool LineReader::next(std::string& line) {
  for (;;) {
    std::size_t nl = buf_.find('\n', pos_);
    if (nl != std::string::npos) {
      line.assign(buf_, pos_, nl - pos_);
      pos_ = nl + 1;
      return true;
    }
    buf_.erase(0, pos_);
    pos_ = 0;
    if (!fill()) {
      if (buf_.empty()) return false;
      line.swap(buf_);  // last line without a newline
      buf_.clear();
      return true;
    }
  }
}

LineWriter::LineWriter(const std::string& path, bool compress) : path_(path) {
  f_ = std::fopen(path.c_str(), "wb");
  if (!f_) throw std::runtime_error(path + ": cannot create: " + std::strerror(errno));
  if (compress) {
    zstd_ = ZSTD_createCStream();
    ZSTD_initCStream(static_cast<ZSTD_CStream*>(zstd_), 3);
  }
}

LineWriter::~LineWriter() {
  try {
    close();
  } catch (...) {
  }
}

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
    if (std::fwrite(data, 1, n, f_) != n) throw std::runtime_error(path_ + ": write failed");
    return;
  }
  auto* cs = static_cast<ZSTD_CStream*>(zstd_);
  out_.resize(ZSTD_CStreamOutSize());
  ZSTD_inBuffer ib{data, n, 0};
  for (;;) {
    ZSTD_outBuffer ob{out_.data(), out_.size(), 0};
    std::size_t r = end ? ZSTD_endStream(cs, &ob) : ZSTD_compressStream(cs, &ob, &ib);
    if (ZSTD_isError(r)) throw std::runtime_error(path_ + ": zstd: " + ZSTD_getErrorName(r));
    if (std::fwrite(out_.data(), 1, ob.pos, f_) != ob.pos) throw std::runtime_error(path_ + ": write failed");
    if (end ? r == 0 : ib.pos == ib.size) break;
  }
}

void LineWriter::close() {
  if (!f_) return;
  emit(pending_.data(), pending_.size(), false);
  pending_.clear();
  if (zstd_) {
    emit(nullptr, 0, true);
    ZSTD_freeCStream(static_cast<ZSTD_CStream*>(zstd_));
    zstd_ = nullptr;
  }
  bool bad = std::fclose(f_) != 0;
  f_ = nullptr;
  if (bad) throw std::runtime_error(path_ + ": close failed");
}

}  // namespace vmref::trace
