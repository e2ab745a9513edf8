// A finding: an invariant violation or an expectation mismatch at one event.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace vmref::conformance {

struct Finding {
  std::string id;            ///< "INV-COW-1", or "EXPECT-RET", "EXPECT-VSL"... (spec/trace-format.md §5)
  std::uint64_t event = 0;   ///< 0-based index among events (the header is not an event)
  std::uint64_t line = 0;    ///< 1-based source line
  std::string op;            ///< the event's op
  std::string message;
  std::string diff;          ///< short state diff ("- expected" / "+ model" lines), may be empty
};

/// `msg` with every "frame N" whose frame `label_of(N)` names (non-null) written
/// "frame N ('LABEL')": findings name frames by the trace's own labels (spec/trace-format.md
/// §5); frames the trace never labelled keep their number alone.
std::string name_frames(const std::string& msg, const std::function<const std::string*(std::uint64_t)>& label_of);

/// A stable title for `f`, as syzkaller titles a crash: "ID in op: cause", the cause being
/// the message with its numbers and addresses replaced by N and ADDR and its frame labels
/// ("('f3')") by ('L') (identifiers such as INV-TLB-3 kept) and cut at 100 characters. Findings of one bug share a title whatever
/// event, frame or address they name.
std::string finding_title(const Finding& f);

/// Findings that share a title: how many, and the first of them.
struct FindingGroup {
  std::string title;
  std::uint64_t count = 0;
  Finding first;
};
/// `fs` grouped by title, in order of first occurrence.
std::vector<FindingGroup> group_findings(const std::vector<Finding>& fs);

}  // namespace vmref::conformance
