// JSON <-> header/event codec (spec/trace-format.md §2-§3). Strict: unknown fields,
// wrong types and malformed hex are errors naming the field. Each operation's fields are
// read and written by its registry row (the kernel that defines it).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "vmref/model/model.hpp"
#include "vmref/trace/error.hpp"
#include "vmref/trace/hex.hpp"
#include "vmref/vocab/event.hpp"

namespace simdjson::dom {
class parser;  // held by pointer: simdjson.h stays out of every file that includes this
}

namespace vmref::trace {

inline constexpr int kFormatVersion = 1;

/// Header limits (spec/trace-format.md §2), checked before anything is allocated.
inline constexpr std::uint64_t kMaxPageSize = 1ull << 30;   ///< bytes
inline constexpr unsigned kMaxCpus = 4096;
inline constexpr std::uint64_t kMaxFrames = 0xffffffffull;  ///< phys_mem / page_size (32-bit frame numbers)

/// First line of every trace (spec/trace-format.md §2).
struct Header {
  int version = kFormatVersion;
  std::string profile;               ///< "kernel" or "kernel:variant"; "" = the default profile
  std::string arch = "abstract";
  std::uint64_t page_size = 4096;   ///< bytes
  unsigned cpus = 1;
  std::uint64_t phys_mem = 1ull << 30;  ///< bytes of simulated physical memory
  /// The profile's parameters this trace sets (spec/trace-format.md §2 `params`): an
  /// object, empty for the variant's own; checked by header decoding.
  nlohmann::json params = nlohmann::json::object();
  nlohmann::json provenance = nlohmann::json::object();
};

/// A header whose fields all decoded but whose `params` the profile refuses: `header`
/// keeps the rest (its provenance), so a trace may declare its own bad parameters.
struct HeaderError : TraceError {
  HeaderError(const TraceError& e, Header h) : TraceError(e), header(std::move(h)) {}
  Header header;
};

/// Parses the header line; throws TraceError(file, line, field) on any defect.
/// (Re-encodes `j` and decodes it with a LineDecoder: for tests and cold paths.)
Header header_from_json(const nlohmann::json& j, const std::string& file, std::uint64_t line);
/// Key order as in spec/trace-format.md (op first), for readable traces.
nlohmann::ordered_json header_to_json(const Header& h);

/// The header's profile with its `params` applied (vocab::with_params). Throws
/// std::invalid_argument for an unknown profile, TraceError (naming `file`, `line` and
/// "params.<name>") for parameters a decoded header would not have passed.
vocab::Profile profile_of(const Header& h, const std::string& file = "", std::uint64_t line = 1);

/// The model a trace runs on: its profile and parameters, CPUs, and phys_mem / page_size
/// frames. Throws std::invalid_argument for an unknown profile.
inline model::Model model_for(const Header& h) {
  return model::Model(profile_of(h), h.cpus, h.phys_mem / h.page_size, h.page_size);
}

/// Parses one event line with the operation registry (vocab/registry.hpp); throws
/// TraceError(file, line, field) on any defect. (Re-encodes `j` and decodes it with a
/// LineDecoder: for tests and cold paths.)
vocab::Event event_from_json(const nlohmann::json& j, const std::string& file, std::uint64_t line);

/// Decodes trace lines (their text) with simdjson's DOM parser, allocated once and
/// reused line after line; the Fields of trace/fields.hpp read the parsed object.
/// Strictness is that of trace::parse_json (json_text.hpp) plus Fields: a line that
/// simdjson refuses, or that repeats a key in one object, is handed to parse_json, whose
/// error (malformed JSON, nesting deeper than kMaxJsonDepth, duplicate key, number out
/// of range) is thrown as before; what parse_json accepts there (an integer beyond 64
/// bits, which it reads as floating point; a byte-order mark) is re-encoded and decoded
/// as its value, so both decoders accept and refuse the same lines with the same errors.
class LineDecoder {
 public:
  LineDecoder();
  ~LineDecoder();
  LineDecoder(LineDecoder&&) noexcept;
  LineDecoder& operator=(LineDecoder&&) noexcept;
  /// Parses a header line; throws TraceError(file, line, field) on any defect.
  Header header(std::string_view text, const std::string& file, std::uint64_t line);
  /// Parses an event line; throws TraceError(file, line, field) on any defect.
  vocab::Event event(std::string_view text, const std::string& file, std::uint64_t line);
  /// The same, parsing `text` in place: its capacity is grown to simdjson's padding.
  vocab::Event event(std::string& text, const std::string& file, std::uint64_t line);

 private:
  /// Parses the line and calls decode(Fields&) on its object.
  template <class Decode>
  auto decode(const char* text, std::size_t size, bool padded, const std::string& file, std::uint64_t line,
              Decode&& decode);
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::string reencoded_;  // a line parse_json accepted where simdjson did not
};
/// Canonical JSON of an event (op first, hex strings for 64-bit values, defaults omitted).
nlohmann::ordered_json event_to_json(const vocab::Event& e);

}  // namespace vmref::trace
