// Fuzz target: trace::LineReader, the line splitter under every trace reader, plain and
// zstd (autodetected by the frame magic). Two parts per input:
//  1. the input read as it is (a corrupt, truncated or hostile zstd stream must give
//     trace::TraceError, never a crash or unbounded memory);
//  2. a differential: the input minus its first byte, taken as plain text, is compressed
//     here in the shape the first byte picks (one frame, several frames, a skippable
//     frame in front, repeated up to a multiple of the decoder's buffer sizes +-
//     a little), and the lines read back must equal the lines of the plain text.
#include <zstd.h>

#include <string>

#include "fuzz_support.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/line_io.hpp"

using namespace vmref;

namespace {

trace::LineReader reader(const std::string& bytes) {
  return trace::LineReader(fuzz::open_input(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), "fuzz");
}

// The reference splitter: the next line of `text` from `at`: split at '\n', a last line
// without '\n' counts unless empty.
bool next_line(const std::string& text, std::size_t& at, std::string& line) {
  if (at >= text.size()) return false;
  std::size_t nl = text.find('\n', at);
  if (nl == std::string::npos) nl = text.size();
  line.assign(text, at, nl - at);
  at = nl + 1;
  return true;
}

// Reads `text` plainly, `packed` (its compressed form) and the reference split in lock
// step, line by line (no copies of the whole: grown inputs have ~100,000 lines).
void differential(const std::string& text, const std::string& packed, unsigned shape) {
  trace::LineReader plain = reader(text);
  if (plain.compressed()) return;  // the text looks like zstd itself
  std::string what = " (" + std::to_string(text.size()) + " bytes, shape " + std::to_string(shape) + ")";
  try {
    trace::LineReader unpacked = reader(packed);
    if (!unpacked.compressed()) fuzz::broken("valid zstd not detected as compressed" + what);
    std::string a, b, ref;
    std::size_t at = 0;
    for (std::uint64_t n = 1;; ++n) {
      bool has_ref = next_line(text, at, ref), has_a = plain.next(a), has_b = unpacked.next(b);
      if (has_a != has_ref || (has_a && a != ref)) fuzz::broken("plain line " + std::to_string(n) + " differs from a split at '\\n'" + what);
      if (has_b != has_ref || (has_b && b != ref)) fuzz::broken("zstd line " + std::to_string(n) + " differs from the plain text" + what);
      if (plain.line() != (has_a ? n : n - 1) || unpacked.line() != plain.line()) fuzz::broken("line() miscounts" + what);
      if (!has_ref) return;
    }
  } catch (const trace::TraceError& e) {
    fuzz::broken("valid input refused" + what + ": " + e.what());
  }
}

void append_frame(std::string& out, const std::string& part, int level) {
  std::string buf(ZSTD_compressBound(part.size()), '\0');
  std::size_t n = ZSTD_compress(buf.data(), buf.size(), part.data(), part.size(), level);
  if (ZSTD_isError(n)) fuzz::broken(std::string("ZSTD_compress: ") + ZSTD_getErrorName(n));
  out.append(buf.data(), n);
}

void append_skippable(std::string& out, unsigned variant, std::size_t len) {
  const unsigned char magic[4] = {static_cast<unsigned char>(0x50 | (variant & 0xf)), 0x2a, 0x4d, 0x18};
  out.append(reinterpret_cast<const char*>(magic), 4);
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out.append(len, 'S');
}

// `shape`: bits 0-1 frame count - 1, bit 2 a skippable frame in front, bit 3 one between
// frames, bits 4-6 the size class (0-5: the text as is; 6, 7: the text repeated up to
// 128 KiB or 256 KiB +- 3 bytes, around the block size and the decoder's buffers, on a
// quarter of the inputs so that most stay fast), bit 7 level 1 instead of 3.
std::string compress(const std::string& text, unsigned shape) {
  std::string out;
  if (shape & 4) append_skippable(out, shape, shape % 7);
  std::size_t frames = 1 + (shape & 3);
  std::size_t step = text.size() / frames + 1;
  for (std::size_t i = 0, at = 0; i < frames; ++i, at += step) {
    std::string part = at < text.size() ? text.substr(at, step) : std::string();
    if (i && (shape & 8)) append_skippable(out, shape >> 4, i);
    append_frame(out, part, shape & 0x80 ? 1 : 3);
  }
  return out;
}

std::string grow(const std::string& text, unsigned shape) {
  unsigned size_class = (shape >> 4) & 7;
  if (size_class < 6 || text.empty()) return text;
  // 128 KiB (the block size and ZSTD_DStreamOutSize()) x 1 or 2, +- up to 3 bytes.
  std::size_t target = (size_class - 5) * (std::size_t{1} << 17) - 3 + text.size() % 7;
  std::string big;
  big.reserve(target);
  while (big.size() < target) big.append(text, 0, std::min(text.size(), target - big.size()));
  return big;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::init();
  try {  // 1.
    trace::LineReader in = reader(std::string(reinterpret_cast<const char*>(data), size));
    std::string line;
    while (in.next(line)) {
    }
  } catch (const trace::TraceError&) {
  }
  if (size < 1) return 0;  // 2.
  unsigned shape = data[0];
  std::string text = grow(std::string(reinterpret_cast<const char*>(data) + 1, size - 1), shape);
  differential(text, compress(text, shape), shape);
  return 0;
}
